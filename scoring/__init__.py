"""Pure OKR math: KR scores, rollups, pace and status, grades, calibration and lint.

No I/O, no clock, no environment: callers pass facts, dates and thresholds in.
"""

from scoring.grades import ADVICE, Calibration, Verdict, calibration, grade
from scoring.kr import kr_progress, kr_score
from scoring.pace import (
    AHEAD_OF_PACE,
    BEHIND_PACE,
    effective_status,
    effective_statuses,
    expected_progress,
    goal,
    kr_expected,
    kr_suggestion,
    milestone_due,
    objective_light,
    objective_status,
    status_mismatch,
    suggest_status,
    suggester,
    weighted_expected,
    worst_status,
)
from scoring.quality import LintKR, LintObjective, has_number, lint
from scoring.rollups import (
    company_score,
    counted_krs,
    mean_score,
    objective_score,
    rollup,
    team_score,
)
from scoring.thresholds import (
    DEFAULT_THRESHOLDS,
    CalibrationBands,
    GradeBands,
    LintLimits,
    ScoringThresholds,
)
from scoring.trends import Trend, trend, trend_arrow

__all__ = [
    "ADVICE",
    "AHEAD_OF_PACE",
    "BEHIND_PACE",
    "DEFAULT_THRESHOLDS",
    "Calibration",
    "CalibrationBands",
    "GradeBands",
    "LintKR",
    "LintLimits",
    "LintObjective",
    "ScoringThresholds",
    "Trend",
    "Verdict",
    "calibration",
    "company_score",
    "counted_krs",
    "effective_status",
    "effective_statuses",
    "expected_progress",
    "goal",
    "grade",
    "has_number",
    "kr_expected",
    "kr_progress",
    "kr_score",
    "kr_suggestion",
    "lint",
    "mean_score",
    "milestone_due",
    "objective_light",
    "objective_score",
    "objective_status",
    "rollup",
    "status_mismatch",
    "suggest_status",
    "suggester",
    "team_score",
    "trend",
    "trend_arrow",
    "weighted_expected",
    "worst_status",
]
