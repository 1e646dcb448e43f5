"""The shared vocabulary: enums and small frozen value objects passed between layers.

Pure: imports nothing of ours and touches no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class KRType(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    ABOVE = "above"
    BELOW = "below"
    PERCENT = "percent"
    MILESTONE = "milestone"
    MANUAL = "manual"
    ISSUES = "issues"
    CHILDREN = "children"

    @property
    def takes_value(self) -> bool:
        """True when a check-in for this type carries a measured value."""
        return self in (
            KRType.INCREASE,
            KRType.DECREASE,
            KRType.ABOVE,
            KRType.BELOW,
            KRType.PERCENT,
            KRType.MILESTONE,
        )

    @property
    def needs_start_and_target(self) -> bool:
        return self in (KRType.INCREASE, KRType.DECREASE)

    @property
    def needs_threshold(self) -> bool:
        return self in (KRType.ABOVE, KRType.BELOW)


class TrafficLight(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """Higher is worse: used to take the worst status of a set."""
        return {"green": 0, "yellow": 1, "red": 2}[self.value]

    @property
    def emoji(self) -> str:
        return {"green": ":large_green_circle:", "yellow": ":large_yellow_circle:",
                "red": ":red_circle:"}[self.value]


class KRState(StrEnum):
    """Lifecycle of a key result, orthogonal to its traffic light."""

    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"


class CyclePhase(StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    REVIEW = "review"
    CLOSED = "closed"


class RollupMode(StrEnum):
    KRS = "krs"
    CHILDREN = "children"
    BOTH = "both"


class TeamKind(StrEnum):
    COMPANY = "company"
    DEPARTMENT = "department"
    TEAM = "team"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Commitment(StrEnum):
    COMMITTED = "committed"
    ASPIRATIONAL = "aspirational"


class CheckinSource(StrEnum):
    SLACK = "slack"
    CLI = "cli"
    API = "api"
    IMPORT = "import"
    ISSUES = "issues"
    DEMO = "demo"
    REVIEW = "review"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Grade(StrEnum):
    ACHIEVED = "achieved"
    STRONG = "strong"
    PARTIAL = "partial"
    MISS = "miss"


class ReviewKind(StrEnum):
    """Kinds of end-of-cycle score entries; every entry is kept as history."""

    COMPUTED = "computed"
    SELF = "self"
    FINAL = "final"


# --- value objects handed to scoring -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueFact:
    """A linked issue or merge request as scoring sees it."""

    closed: bool
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class KRFacts:
    """Everything scoring needs about one key result.

    ``current`` is the latest measured value (None before the first check-in: the KR is then
    at its start). ``manual_score`` is the owner's score for ``manual`` KRs. ``issues`` feeds
    ``issues`` KRs; ``children`` lists the ids of objectives aligned to this KR, used by
    ``children`` KRs.
    """

    id: str
    kr_type: KRType
    start: float | None = None
    target: float | None = None
    current: float | None = None
    manual_score: float | None = None
    weight: float = 1.0
    issues: tuple[IssueFact, ...] = ()
    children: tuple[str, ...] = ()
    declared_status: TrafficLight | None = None
    state: KRState = KRState.ACTIVE


@dataclass(frozen=True, slots=True)
class ObjectiveFacts:
    """An objective with its KRs and the ids of objectives aligned directly to it."""

    id: str
    key_results: tuple[KRFacts, ...] = ()
    children: tuple[str, ...] = ()
    rollup_mode: RollupMode = RollupMode.KRS
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class CycleWindow:
    """A cycle's dates, inclusive on both ends, in the organisation's calendar."""

    name: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class LintWarning:
    code: str
    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """Scores computed for one tree: ids -> score in [0, 1]."""

    key_results: dict[str, float] = field(default_factory=dict)
    objectives: dict[str, float] = field(default_factory=dict)
    progress: dict[str, float] = field(default_factory=dict)


# --- values passed between the Slack surface, the services and the scheduler ------------------


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


# --- read models handed to blocks, digests, reports and the CLI ------------------------------


@dataclass(frozen=True, slots=True)
class KRView:
    """A key result as people see it: values, score, status and how it is moving."""

    key: str
    title: str
    kr_type: KRType
    objective_key: str
    owner_slack_id: str | None
    owner_name: str | None
    start: float | None
    target: float | None
    current: float | None
    unit: str | None
    weight: float
    score: float
    progress: float
    status: TrafficLight
    suggested_status: TrafficLight
    declared_status: TrafficLight | None
    previous_score: float | None
    state: KRState = KRState.ACTIVE
    last_checkin_at: datetime | None = None
    last_note: str | None = None
    last_blockers: str | None = None
    mismatch: str | None = None
    stale: bool = False

    @property
    def trend(self) -> str:
        if self.previous_score is None:
            return "flat"
        delta = self.score - self.previous_score
        if delta > 0.005:
            return "up"
        if delta < -0.005:
            return "down"
        return "flat"


@dataclass(frozen=True, slots=True)
class ObjectiveView:
    key: str
    title: str
    cycle: str
    team_key: str | None
    team_name: str | None
    owner_slack_id: str | None
    owner_name: str | None
    score: float
    status: TrafficLight
    visibility: Visibility
    commitment: Commitment
    key_results: tuple[KRView, ...]
    aligned_to: str | None = None
    aligned_to_kr: str | None = None
    depth: int = 0
    is_development: bool = False
    is_draft: bool = False
    rollup_mode: RollupMode = RollupMode.KRS


@dataclass(frozen=True, slots=True)
class CycleView:
    name: str
    start: date
    end: date
    phase: CyclePhase
    day: int
    total_days: int
    expected: float


# --- what the Slack surfaces read: plain results of service queries -------------------------


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
