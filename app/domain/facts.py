"""Value objects handed to scoring: a cycle's KRs, objectives and linked issues as plain facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.domain.enums import Commitment, KRState, KRType, RollupMode, TrafficLight
from app.domain.records import record


@record(frozen=True, slots=True)
class IssueFact:
    """A linked issue or merge request as scoring sees it."""

    closed: bool
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class PhasedTarget:
    """A point of a KR's plan: ``value`` (in the KR's unit) expected on ``on``."""

    on: date
    value: float


@record(frozen=True, slots=True)
class KRFacts:
    """Everything scoring needs about one key result.

    ``current`` is the latest measured value (None before the first check-in: the KR is then
    at its start). ``manual_score`` is the owner's score for ``manual`` KRs. ``issues`` feeds
    ``issues`` KRs; ``children`` lists the ids of objectives aligned to this KR, used by
    ``children`` KRs. ``due`` is a milestone's due date; ``targets`` the phased targets
    (in date order) that shape the expected pace.
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
    due: date | None = None
    targets: tuple[PhasedTarget, ...] = ()


@record(frozen=True, slots=True)
class ObjectiveFacts:
    """An objective with its KRs and the ids of objectives aligned directly to it."""

    id: str
    key_results: tuple[KRFacts, ...] = ()
    children: tuple[str, ...] = ()
    rollup_mode: RollupMode = RollupMode.KRS
    weight: float = 1.0
    commitment: Commitment = Commitment.COMMITTED


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
