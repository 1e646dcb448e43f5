"""Why a due check-in prompt is not sent: a pure decision over facts loaded at send time.

The reasons are recorded on the delivery row (state ``skipped``), so a prompt that did not go
out is visible with its reason instead of silently missing. A holiday or a non-working day is
not a reason: the prompt moves to the next working day when it is enqueued
(``app.calendar.placement``), and the rules here are decided for the day it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.domain import CyclePhase, KRType

DEACTIVATED = "deactivated"
AWAY = "away"
NO_CYCLE = "no cycle running"
CYCLE_PLANNING = "cycle still in planning"
CYCLE_CLOSED = "cycle closed"
CYCLE_REVIEW = "cycle in review"
NO_ACTIVE_KRS = "no active key results"
CHECKED_IN = "checked in recently"
SKIPPED_WEEK = "skipped this week"
ALREADY_CHECKED_IN = "checked in since the prompt"  # on every active KR
NUDGES_OFF = "nudges turned off"  # Person.nudges
NEWER_PROMPT = "a newer prompt was sent"  # it has its own ladder
NOTHING_WAITING = "nothing is waiting any more"  # a lead's "waiting on" DM


@dataclass(frozen=True, slots=True)
class PromptFacts:
    """What the decision needs about one person on one occurrence."""

    active: bool
    away_until: date | None
    phase: CyclePhase | None  # the effective phase of the cycle on that date; None: no cycle
    # Last check-in instant of each of the person's *active* KRs (None: never).
    active_krs: tuple[datetime | None, ...]
    skipped_week: bool = False
    away_from: date | None = None  # the first day away (None: away from now on)


def is_away(away_until: date | None, day: date, away_from: date | None = None) -> bool:
    """Away from one date until another, both inclusive (no start: away until then)."""
    if away_until is None or day > away_until:
        return False
    return away_from is None or day >= away_from


def prompt_skip_reason(facts: PromptFacts, *, local_date: date, due_at: datetime,
                       checked_in_days: int, sent_on: date | None = None) -> str | None:
    """The reason not to prompt, or None to send. The order is the order of precedence.

    ``local_date`` is the scheduled date (its cycle, its week); ``sent_on`` the local date it
    goes out on when it moved (away is decided for that day)."""
    if not facts.active:
        return DEACTIVATED
    if facts.phase is None:
        return NO_CYCLE
    if facts.phase == CyclePhase.PLANNING:
        return CYCLE_PLANNING
    if facts.phase == CyclePhase.CLOSED:
        return CYCLE_CLOSED
    if facts.phase == CyclePhase.REVIEW:
        # End-of-cycle scoring has its own prompts; weekly check-ins stop.
        return CYCLE_REVIEW
    if is_away(facts.away_until, sent_on or local_date, facts.away_from):
        return AWAY
    if facts.skipped_week:
        return SKIPPED_WEEK
    if not facts.active_krs:
        return NO_ACTIVE_KRS
    if checked_in_days > 0:
        since = due_at - timedelta(days=checked_in_days)
        if all(at is not None and since <= at <= due_at for at in facts.active_krs):
            return CHECKED_IN
    return None


# Key results scored by the system (from their linked issues or their child objectives): a
# prompt lists them, but nobody is chased for them, owners or leads.
AUTO_SCORED = frozenset({KRType.ISSUES.value, KRType.CHILDREN.value})
AUTO_ONLY = "only key results scored from linked issues or child objectives"


def awaits_answer(kr_type: str) -> bool:
    """Whether a KR of this type holds up the follow-ups until its owner updates it."""
    return str(kr_type) not in AUTO_SCORED


def updated_since(last_checkin_at: datetime | None, prompted_at: datetime) -> bool:
    """Whether a KR was checked in on at or after the prompt it is nudged for."""
    return last_checkin_at is not None and last_checkin_at >= prompted_at


def nudge_skip_reason(facts: PromptFacts, *, local_date: date, prompted_at: datetime,
                      sent_on: date | None = None) -> str | None:
    """A follow-up goes only to someone still due: the prompt's rules, and at least one active
    KR not updated since the prompt. Nudges are per KR: a check-in on one KR does not silence
    the others; the nudge lists the ones still waiting (see :func:`updated_since`)."""
    base = prompt_skip_reason(facts, local_date=local_date, due_at=prompted_at,
                              checked_in_days=0, sent_on=sent_on)
    if base is not None:
        return base
    if all(updated_since(at, prompted_at) for at in facts.active_krs):
        return ALREADY_CHECKED_IN
    return None
