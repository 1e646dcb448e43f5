"""Pace, suggested status (edges exact), effective and objective status, mismatch, trend."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import CycleWindow, KRFacts, KRState, KRType, TrafficLight
from scoring import (
    AHEAD_OF_PACE,
    BEHIND_PACE,
    effective_status,
    effective_statuses,
    expected_progress,
    objective_status,
    status_mismatch,
    suggest_status,
    trend,
    trend_arrow,
    worst_status,
)

G, Y, R = TrafficLight.GREEN, TrafficLight.YELLOW, TrafficLight.RED
Q1 = CycleWindow("FY27-Q1", date(2026, 2, 1), date(2026, 4, 30))  # 89 days


class TestExpectedProgress:
    @pytest.mark.parametrize(
        ("today", "expected"),
        [
            (date(2026, 1, 31), 0.0),
            (date(2026, 2, 1), 1 / 89),
            (date(2026, 2, 2), 2 / 89),
            (date(2026, 4, 29), 88 / 89),
            (date(2026, 4, 30), 1.0),
            (date(2027, 1, 1), 1.0),
        ],
    )
    def test_days_elapsed_including_today(self, today: date, expected: float) -> None:
        assert expected_progress(Q1, today) == pytest.approx(expected)

    def test_one_day_cycle(self) -> None:
        day = date(2026, 3, 1)
        assert expected_progress(CycleWindow("x", day, day), day) == 1.0

    @given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
           st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)))
    def test_bounded_and_monotone(self, a: date, b: date) -> None:
        early, late = sorted((a, b))
        assert 0.0 <= expected_progress(Q1, early) <= expected_progress(Q1, late) <= 1.0


class TestSuggestStatus:
    # Powers of two make every gap below exact, so these are the true boundaries.
    gaps = {"yellow_gap": 0.25, "red_gap": 0.5}
    tiny = 2.0**-20

    def test_gap_just_below_yellow_is_green(self) -> None:
        assert suggest_status(0.5 + self.tiny, 0.75, **self.gaps) == G

    def test_gap_equal_to_yellow_is_yellow(self) -> None:
        assert suggest_status(0.5, 0.75, **self.gaps) == Y

    def test_gap_just_below_red_is_yellow(self) -> None:
        assert suggest_status(0.25 + self.tiny, 0.75, **self.gaps) == Y

    def test_gap_equal_to_red_is_red(self) -> None:
        assert suggest_status(0.25, 0.75, **self.gaps) == R

    def test_ahead_of_pace_is_green(self) -> None:
        assert suggest_status(0.9, 0.1, **self.gaps) == G

    def test_full_score_is_always_green(self) -> None:
        assert suggest_status(1.0, 1.0, yellow_gap=0.0, red_gap=0.0) == G
        assert suggest_status(0.75, 1.0, yellow_gap=0.0, red_gap=0.0) == R

    def test_decimal_boundary_lands_on_the_boundary(self) -> None:
        # 0.45 - 0.30 is 0.15000000000000002 in floats; the 1e-9 tolerance calls it 0.15.
        assert suggest_status(0.30, 0.45, yellow_gap=0.15, red_gap=0.30) == Y
        assert suggest_status(0.31, 0.45, yellow_gap=0.15, red_gap=0.30) == G
        assert suggest_status(0.10, 0.40, yellow_gap=0.15, red_gap=0.30) == R

    def test_tolerance_is_tiny(self) -> None:
        assert suggest_status(0.5 + 1e-12, 0.75, **self.gaps) == Y
        assert suggest_status(0.5 + 1e-6, 0.75, **self.gaps) == G

    def test_defaults_match_settings(self) -> None:
        assert suggest_status(0.5, 0.65) == Y  # gap 0.15 with default yellow_gap 0.15
        assert suggest_status(0.2, 0.5) == R

    @given(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1))
    def test_lower_score_is_never_better(self, a: float, b: float, expected: float) -> None:
        low, high = sorted((a, b))
        assert suggest_status(low, expected).rank >= suggest_status(high, expected).rank


class TestEffectiveAndObjectiveStatus:
    def test_declared_always_wins(self) -> None:
        assert effective_status(G, 0.0, 1.0) == G
        assert effective_status(R, 1.0, 0.0) == R

    def test_suggested_when_not_declared(self) -> None:
        assert effective_status(None, 0.0, 1.0) == R

    def test_worst_status(self) -> None:
        assert worst_status([G, Y, G]) == Y
        assert worst_status([G, R, Y]) == R
        assert worst_status([]) is None

    def test_objective_status_is_worst_of_krs(self) -> None:
        assert objective_status([G, G]) == G
        assert objective_status([G, Y, R]) == R

    def test_objective_status_empty(self) -> None:
        assert objective_status([], default=Y) == Y
        with pytest.raises(ValueError, match="at least one KR status"):
            objective_status([])

    def test_effective_statuses_from_krs(self) -> None:
        krs = [
            KRFacts(id="a", kr_type=KRType.PERCENT, declared_status=G),
            KRFacts(id="b", kr_type=KRType.PERCENT),
            KRFacts(id="c", kr_type=KRType.PERCENT, state=KRState.PAUSED),
        ]
        scores = {"a": 0.0, "b": 0.5, "c": 0.0}
        assert effective_statuses(krs, scores, 0.6) == [G, G]
        assert objective_status(effective_statuses(krs, scores, 0.9)) == R

    def test_effective_statuses_all_paused_still_count(self) -> None:
        krs = [KRFacts(id="a", kr_type=KRType.PERCENT, state=KRState.PAUSED)]
        assert effective_statuses(krs, {}, 0.5) == [R]


class TestMismatch:
    def test_green_behind_pace(self) -> None:
        assert status_mismatch(G, 0.5, 0.75, gap=0.25) == BEHIND_PACE
        assert BEHIND_PACE == "declared green but behind pace"

    def test_green_slightly_behind_is_fine(self) -> None:
        assert status_mismatch(G, 0.5 + 2.0**-20, 0.75, gap=0.25) is None

    def test_red_ahead_of_pace(self) -> None:
        assert status_mismatch(R, 0.75, 0.5, gap=0.25) == AHEAD_OF_PACE

    def test_red_slightly_ahead_is_fine(self) -> None:
        assert status_mismatch(R, 0.75 - 2.0**-20, 0.5, gap=0.25) is None

    @pytest.mark.parametrize(
        ("declared", "score", "expected"),
        [(Y, 0.0, 1.0), (Y, 1.0, 0.0), (None, 0.0, 1.0), (G, 1.0, 0.0), (R, 0.0, 1.0)],
    )
    def test_no_mismatch(self, declared: TrafficLight | None, score: float,
                         expected: float) -> None:
        assert status_mismatch(declared, score, expected, gap=0.25) is None

    def test_default_gap(self) -> None:
        assert status_mismatch(G, 0.4, 0.65) == BEHIND_PACE
        assert status_mismatch(G, 0.41, 0.65) is None


class TestTrend:
    @pytest.mark.parametrize(
        ("previous", "current", "expected"),
        [(0.50, 0.52, "up"), (0.52, 0.50, "down"), (0.50, 0.505, "flat"),
         (0.50, 0.51, "flat"), (0.51, 0.50, "flat"), (None, 0.9, "flat")],
    )
    def test_trend(self, previous: float | None, current: float, expected: str) -> None:
        assert trend(previous, current) == expected

    def test_custom_eps(self) -> None:
        assert trend(0.5, 0.55, eps=0.1) == "flat"
        assert trend(0.5, 0.65, eps=0.1) == "up"

    def test_arrows(self) -> None:
        assert [trend_arrow("up"), trend_arrow("down"), trend_arrow("flat")] == ["↑", "↓", "→"]
