"""Grade bands, calibration verdicts and thresholds taken from settings."""

from __future__ import annotations

from dataclasses import fields

import pytest

from app.config import ScoringSettings
from app.domain import Grade
from scoring import DEFAULT_THRESHOLDS, ScoringThresholds, Verdict, calibration, grade


class TestGrade:
    @pytest.mark.parametrize(
        ("score", "expected"),
        [
            (1.0, Grade.ACHIEVED),
            (0.999, Grade.STRONG),
            (0.7, Grade.STRONG),
            (0.1 * 7, Grade.STRONG),  # 0.7000000000000001
            (0.69, Grade.PARTIAL),
            (0.4, Grade.PARTIAL),
            (0.39, Grade.MISS),
            (0.0, Grade.MISS),
        ],
    )
    def test_default_bands(self, score: float, expected: Grade) -> None:
        assert grade(score) == expected

    def test_just_under_a_decimal_band_within_tolerance(self) -> None:
        assert grade(0.7 - 1e-12) == Grade.STRONG
        assert grade(0.7 - 1e-6) == Grade.PARTIAL

    def test_custom_bands(self) -> None:
        bands = ScoringThresholds(grade_achieved=0.9, grade_strong=0.5, grade_partial=0.25)
        assert [grade(s, bands) for s in (0.9, 0.5, 0.25, 0.2)] == [
            Grade.ACHIEVED, Grade.STRONG, Grade.PARTIAL, Grade.MISS]

    def test_accepts_scoring_settings(self) -> None:
        settings = ScoringSettings(grade_strong=0.8)
        assert grade(0.75, settings) == Grade.PARTIAL


class TestCalibration:
    @pytest.mark.parametrize(
        ("scores", "verdict"),
        [
            ([0.95, 0.95], Verdict.TOO_EASY),
            ([0.9], Verdict.ABOVE_SWEET_SPOT),
            ([0.8], Verdict.ABOVE_SWEET_SPOT),
            ([0.7], Verdict.SWEET_SPOT),
            ([0.6, 0.7], Verdict.SWEET_SPOT),
            ([0.6], Verdict.SWEET_SPOT),
            ([0.5], Verdict.BELOW_SWEET_SPOT),
            ([0.4], Verdict.BELOW_SWEET_SPOT),
            ([0.3, 0.4], Verdict.UNREALISTIC),
            ([0.0], Verdict.UNREALISTIC),
        ],
    )
    def test_verdicts(self, scores: list[float], verdict: Verdict) -> None:
        assert calibration(scores).verdict == verdict

    def test_advice_texts(self) -> None:
        assert calibration([1.0]).advice == "Too easy: raise ambition next cycle"
        assert calibration([0.1]).advice == "Unrealistic or under-resourced: recalibrate"
        assert calibration([0.65]).advice == "The sweet spot: ambitious and achievable"
        assert "sweet spot" in calibration([0.5]).advice.lower()
        assert "sweet spot" in calibration([0.8]).advice.lower()

    def test_average_and_count(self) -> None:
        result = calibration([0.5, 1.0, 0.6])
        assert result.average == pytest.approx(0.7)
        assert result.count == 3
        assert result.verdict == Verdict.SWEET_SPOT  # 0.7000000000000001 is still 0.7

    def test_no_scores(self) -> None:
        result = calibration([])
        assert (result.average, result.verdict, result.count) == (None, Verdict.NO_SCORES, 0)
        assert str(result.verdict) == "no_scores"

    def test_accepts_scoring_settings(self) -> None:
        assert calibration([0.85], ScoringSettings(calibration_too_easy=0.8)).verdict == (
            Verdict.TOO_EASY)


def test_default_thresholds_mirror_scoring_settings() -> None:
    defaults = {name: info.default for name, info in ScoringSettings.model_fields.items()}
    ours = {f.name: getattr(DEFAULT_THRESHOLDS, f.name) for f in fields(ScoringThresholds)}
    assert ours == defaults
