"""Thresholds used by scoring, as plain values.

Scoring never reads settings itself. Every function that needs thresholds takes an object with
the relevant attributes: ``app.config.ScoringSettings`` satisfies these protocols, and so does
:class:`ScoringThresholds`, whose defaults mirror it for callers (and tests) that have no
settings object at hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain import ObjectiveStatusRule


class GradeBands(Protocol):
    @property
    def grade_achieved(self) -> float: ...
    @property
    def grade_strong(self) -> float: ...
    @property
    def grade_partial(self) -> float: ...


class CalibrationBands(Protocol):
    @property
    def calibration_too_easy(self) -> float: ...
    @property
    def calibration_unrealistic(self) -> float: ...
    @property
    def sweet_spot_low(self) -> float: ...
    @property
    def sweet_spot_high(self) -> float: ...


class LintLimits(Protocol):
    @property
    def max_cascade_depth(self) -> int: ...
    @property
    def min_objectives(self) -> int: ...
    @property
    def max_objectives(self) -> int: ...
    @property
    def min_krs(self) -> int: ...
    @property
    def max_krs(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ScoringThresholds:
    """Defaults identical to ``ScoringSettings`` (a unit test keeps them in step)."""

    yellow_gap: float = 0.15
    red_gap: float = 0.30
    mismatch_gap: float = 0.25
    grade_achieved: float = 1.0
    grade_strong: float = 0.7
    grade_partial: float = 0.4
    calibration_too_easy: float = 0.9
    calibration_unrealistic: float = 0.4
    sweet_spot_low: float = 0.6
    sweet_spot_high: float = 0.7
    max_cascade_depth: int = 4
    min_objectives: int = 1
    max_objectives: int = 5
    min_krs: int = 2
    max_krs: int = 5
    aspirational_target: float = 0.7
    milestone_at_risk_days: int = 7
    objective_status: ObjectiveStatusRule = ObjectiveStatusRule.WEIGHTED


DEFAULT_THRESHOLDS = ScoringThresholds()
