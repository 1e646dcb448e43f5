"""What the Slack surfaces read: plain results of service queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.enums import KRType, TrafficLight
from app.domain.facts import PhasedTarget
from app.domain.views import CycleView, KRView, ObjectiveView


@dataclass(frozen=True, slots=True)
class CycleOverview:
    """``/okr cycle``: where a cycle stands, on the organisation's date."""

    view: CycleView
    today: date
    timeline_preset: str | None
    company_score: float | None


@dataclass(frozen=True, slots=True)
class TeamOverview:
    name: str
    score: float | None
    objectives: tuple[ObjectiveView, ...]


@dataclass(frozen=True, slots=True)
class HomeFacts:
    """What someone's App Home shows, apart from their next check-in."""

    name: str
    tz: str
    slack_id: str
    cycle: CycleView | None
    my_krs: tuple[KRView, ...]
    teams: tuple[TeamOverview, ...]
    away_until: date | None


@dataclass(frozen=True, slots=True)
class FormChoices:
    """The pickers of an objective form, as (value, label) pairs, and their defaults."""

    cycles: tuple[tuple[str, str], ...]
    teams: tuple[tuple[str, str], ...]
    cycle: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectiveEdit:
    """An objective as its edit form starts (``align`` is a (value, label) pair)."""

    key: str
    choices: FormChoices
    title: str
    owner_slack_id: str | None
    align: tuple[str, str] | None
    visibility: str
    commitment: str


@dataclass(frozen=True, slots=True)
class KREdit:
    """A key result as its edit form starts."""

    key: str
    objective_title: str
    title: str
    kr_type: str
    start: float | None
    target: float | None
    unit: str | None
    weight: float | None
    owner_slack_id: str | None
    state: str | None
    due: date | None = None
    targets: tuple[PhasedTarget, ...] = ()


@dataclass(frozen=True, slots=True)
class Saved:
    """What a create or edit stored: the objective's or KR's key and title."""

    key: str
    title: str
    key_results: int = 0


@dataclass(frozen=True, slots=True)
class LinkProgress:
    """An ``issues`` key result's linked work: done, total and the resulting score."""

    kr_key: str
    kr_title: str
    closed: int
    total: int
    score: float


@dataclass(frozen=True, slots=True)
class LinkedItem:
    """One issue, merge or pull request linked to a key result, as ``/okr show`` lists it."""

    url: str
    ref: str  # acme/web#12, acme/web!7
    title: str | None
    state: str  # open | closed | merged | deleted | unknown
    done: bool
    weight: float = 1.0
    from_query: bool = False  # brought in by the KR's saved search
    left: bool = False  # no longer matches the saved search: no longer counts


@dataclass(frozen=True, slots=True)
class ReplyLine:
    """One line of a check-in written in the DM, as the bot read it.

    Either recorded (``kr_title`` set, ``problem`` None; ``value`` is the KR's new value, the
    score for a manual KR) or not understood (``problem`` says why; nothing was stored from
    it). ``status_kept``: no status was typed, so the last declared one was carried forward.
    """

    text: str
    kr_title: str | None = None
    kr_type: KRType | None = None
    unit: str | None = None
    value: float | None = None
    previous: float | None = None
    status: TrafficLight | None = None
    status_kept: bool = False
    note: str | None = None
    no_change: bool = False
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What a check-in written in the DM did, line by line.

    ``choices`` are the (KR id, title) pairs the person may check in on by reply (the hint);
    ``repeated``: this message was recorded before (a retried event), so say nothing;
    ``help``: the person asked how to reply.
    """

    lines: tuple[ReplyLine, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    repeated: bool = False
    help: bool = False
    person_id: int | None = None

    @property
    def recorded(self) -> tuple[ReplyLine, ...]:
        return tuple(line for line in self.lines if line.problem is None)

    @property
    def problems(self) -> tuple[ReplyLine, ...]:
        return tuple(line for line in self.lines if line.problem is not None)
