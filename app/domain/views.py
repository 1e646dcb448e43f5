"""Read models handed to blocks, digests, reports and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.domain.enums import (
    Commitment,
    CyclePhase,
    Grade,
    KRState,
    KRType,
    Light,
    RollupMode,
    TrafficLight,
    Visibility,
)
from app.domain.facts import PhasedTarget
from app.domain.records import record

# The light of a grade or traffic light, by its text (members are str): calling the enum
# class costs a few microseconds, and an export asks every KR and objective.
_LIGHT: dict[str, Light] = {m.value: m for m in Light}


@record(frozen=True, slots=True)
class KRView:
    """A key result as people see it: values, score, status and how it is moving.

    ``status`` is the traffic light (declared, else suggested from pace; after the cycle's
    end, the light of its grade). ``light`` is what people are shown: the grade after the
    end, ``pending`` before the first check-in, ``outdated`` when ``stale``, else ``status``.
    ``expected`` is the score the pace expects by today (see :mod:`scoring.pace`).
    """

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
    expected: float = 0.0
    pending: bool = False
    grade: Grade | None = None
    due: date | None = None
    targets: tuple[PhasedTarget, ...] = ()

    @property
    def light(self) -> Light:
        if self.grade is not None:
            return _LIGHT[self.grade]
        if self.pending:
            return Light.PENDING
        if self.stale:
            return Light.OUTDATED
        return _LIGHT[self.status]

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


@record(frozen=True, slots=True)
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
    expected: float = 0.0
    grade: Grade | None = None

    @property
    def light(self) -> Light:
        """The grade after the cycle's end, else the traffic light."""
        return _LIGHT[self.grade] if self.grade is not None else _LIGHT[self.status]


@dataclass(frozen=True, slots=True)
class CycleView:
    name: str
    start: date
    end: date
    phase: CyclePhase
    day: int
    total_days: int
    expected: float
