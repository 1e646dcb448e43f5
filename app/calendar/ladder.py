"""When the follow-ups of an unanswered prompt are due, as pure functions.

A step "after N working days" is due at the prompt's local wall time on the N-th working day
after the prompt's local date (the person's working days and holidays), then moved into their
working hours: a prompt sent on Friday is nudged on Monday, a nudge that would come at 21:00
waits for 08:00 on the next working day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.calendar import cadence
from app.calendar.workweek import WorkWeek

# A step due longer than this after its prompt is not sent (someone away for weeks hears from
# the next prompt instead, not from an old one).
MAX_SPAN = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class Step:
    """One rung: ``rank`` 1, 2 ... for nudges, 0 for the lead's "waiting on" DM."""

    rank: int
    days: int  # working days after the prompt
    at: datetime  # UTC


def step_at(prompted: datetime, tz: ZoneInfo, week: WorkWeek, days: int) -> datetime | None:
    """When a follow-up ``days`` working days after a prompt (sent or due at ``prompted``) is
    due, in UTC; None when no working day is within reach or it would be past
    :data:`MAX_SPAN`."""
    local = prompted.astimezone(tz)
    day = week.add_working_days(local.date(), days)
    if day is None:
        return None
    placed = week.place(cadence.localize(day, local.time().replace(tzinfo=None), tz), tz)
    if placed is None or placed - prompted > MAX_SPAN:
        return None
    return placed


def nudge_steps(prompted: datetime, tz: ZoneInfo, week: WorkWeek,
                after_days: Sequence[int]) -> list[Step]:
    """The nudges of a prompt, in order (those that cannot be placed are left out)."""
    out = []
    for rank, days in enumerate(after_days, start=1):
        at = step_at(prompted, tz, week, days)
        if at is not None:
            out.append(Step(rank, days, at))
    return out


def week_key(at: datetime, tz: ZoneInfo) -> str:
    """The local week (its Monday) a follow-up belongs to, for weekly caps and keys."""
    return cadence.week_of(at.astimezone(tz).date()).isoformat()


def lead_morning(trigger: datetime, tz: ZoneInfo, week: WorkWeek) -> datetime | None:
    """When a lead hears of a step reached at ``trigger``: the start of their first working
    day at or after it (so owners in several zones reached the same day are listed
    together). None: no working day within reach."""
    local = trigger.astimezone(tz)
    start = week.hours[0]
    day = local.date() if local.time() <= start else local.date() + timedelta(days=1)
    found = week.next_working(day)
    return None if found is None else cadence.localize(found, start, tz)
