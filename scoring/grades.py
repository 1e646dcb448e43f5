"""End-of-cycle grades and calibration of a set of final scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from app.domain import Grade
from scoring._num import EPS
from scoring.thresholds import DEFAULT_THRESHOLDS, CalibrationBands, GradeBands


def grade(final_score: float, bands: GradeBands = DEFAULT_THRESHOLDS) -> Grade:
    """Grade a final score: ``>= grade_achieved`` achieved, ``>= grade_strong`` strong,
    ``>= grade_partial`` partial, else miss (defaults 1.0 / 0.7 / 0.4).

    A score within 1e-9 below a band counts as reaching it (0.1 * 7 is "0.7").
    """
    if final_score >= bands.grade_achieved - EPS:
        return Grade.ACHIEVED
    if final_score >= bands.grade_strong - EPS:
        return Grade.STRONG
    if final_score >= bands.grade_partial - EPS:
        return Grade.PARTIAL
    return Grade.MISS


class Verdict(StrEnum):
    NO_SCORES = "no_scores"
    TOO_EASY = "too_easy"
    ABOVE_SWEET_SPOT = "above_sweet_spot"
    SWEET_SPOT = "sweet_spot"
    BELOW_SWEET_SPOT = "below_sweet_spot"
    UNREALISTIC = "unrealistic"


ADVICE: dict[Verdict, str] = {
    Verdict.NO_SCORES: "No final scores yet: nothing to calibrate",
    Verdict.TOO_EASY: "Too easy: raise ambition next cycle",
    Verdict.ABOVE_SWEET_SPOT: "Above the sweet spot: consider stretching targets a little",
    Verdict.SWEET_SPOT: "The sweet spot: ambitious and achievable",
    Verdict.BELOW_SWEET_SPOT: "Below the sweet spot: check targets and resourcing",
    Verdict.UNREALISTIC: "Unrealistic or under-resourced: recalibrate",
}


@dataclass(frozen=True, slots=True)
class Calibration:
    average: float | None
    verdict: Verdict
    advice: str
    count: int


def calibration(
    scores: Sequence[float], settings: CalibrationBands = DEFAULT_THRESHOLDS
) -> Calibration:
    """Judge how ambitious a set of final scores was, from their average.

    With the defaults: above 0.9 too easy; 0.7 < avg <= 0.9 above the sweet spot;
    0.6 <= avg <= 0.7 the sweet spot; 0.4 <= avg < 0.6 below it; under 0.4 unrealistic.
    Boundaries are compared with a 1e-9 tolerance in favour of the inclusive side.
    """
    if not scores:
        return Calibration(None, Verdict.NO_SCORES, ADVICE[Verdict.NO_SCORES], 0)
    average = sum(scores) / len(scores)
    if average > settings.calibration_too_easy + EPS:
        verdict = Verdict.TOO_EASY
    elif average < settings.calibration_unrealistic - EPS:
        verdict = Verdict.UNREALISTIC
    elif average > settings.sweet_spot_high + EPS:
        verdict = Verdict.ABOVE_SWEET_SPOT
    elif average >= settings.sweet_spot_low - EPS:
        verdict = Verdict.SWEET_SPOT
    else:
        verdict = Verdict.BELOW_SWEET_SPOT
    return Calibration(average, verdict, ADVICE[verdict], len(scores))
