"""Values passed between the Slack surface, the services and the scheduler: one type per concept."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CheckinAnswer:
    """One KR's check-in answer, whichever way it came in (modal, CLI, API, import, demo).

    A measured answer carries ``value`` (``score`` for manual KRs). The Slack modal hands the
    value over as typed instead: ``value_text`` unparsed, ``milestone_done`` for the
    milestone's checkbox; the check-in form service reads those against the KR's type.
    ``no_change`` carries the last value forward (a check-in that says "still here").
    """

    kr_key: str
    value: float | None = None
    score: float | None = None
    status: str | None = None
    confidence: str | None = None
    note: str | None = None
    blockers: str | None = None
    no_change: bool = False
    value_text: str | None = None
    milestone_done: bool | None = None


@dataclass(frozen=True, slots=True)
class Due:
    """Something due for delivery, field for field what the scheduler's delivery rows hold.

    ``(kind, target, occurrence)`` is unique in a workspace: inserting it twice is harmless.
    """

    kind: str
    target: str
    occurrence: str
    due_at: datetime
    person_id: int | None = None
    team_id: int | None = None
    cycle_id: int | None = None
    tz: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DigestNote:
    """What someone wrote on a KR since a team's last digest: a check-in's note and blockers,
    or a mid-cycle adjustment described in words."""

    kr_key: str
    kr_title: str
    author_slack_id: str | None
    note: str | None
    blockers: str | None


@dataclass(frozen=True, slots=True)
class Correction:
    """A check-in that supersedes an earlier one (the check-in writer's input).

    An edit carries its new answer beside this; an undo (``undo=True``) carries what was in
    force before the undone entry instead: its ``value``, ``score`` and ``status``, or none.
    """

    supersedes_id: int
    undo: bool = False
    value: float | None = None
    score: float | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class CheckinEntry:
    """One check-in as history holds it: what a summary lists and the Edit modal starts from.

    ``undone`` marks an entry withdrawn by an undo (nothing is in force from it);
    ``can_undo`` says whether it is still inside the undo window.
    """

    id: int
    kr_key: str
    kr_title: str
    at: datetime
    value: float | None
    score: float | None
    status: str | None
    confidence: str | None = None
    note: str | None = None
    blockers: str | None = None
    undone: bool = False
    can_undo: bool = False


@dataclass(frozen=True, slots=True)
class WaitingKR:
    """A KR a lead hears about: its owner was prompted on ``since`` (their local date) and has
    not updated it since, for as many working days as the ladder's last step."""

    team: str
    owner_slack_id: str
    owner_name: str
    title: str
    key: str
    since: date


@dataclass(frozen=True, slots=True)
class Participation:
    """How many of a team's KR owners checked in since ``since`` (the last digest), and who
    has not (Slack ids, empty when the team chose not to name them)."""

    owners: int
    checked_in: int
    waiting: tuple[str, ...] = ()
    since: date | None = None
    named: bool = True
