"""KR scores by type: examples, bounds and monotonicity."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import IssueFact, KRFacts, KRType
from scoring import kr_progress, kr_score

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
optional_finite = st.none() | finite


def kr(kind: KRType, **kw: object) -> KRFacts:
    return KRFacts(id="kr", kr_type=kind, **kw)  # type: ignore[arg-type]


class TestIncreaseDecrease:
    def test_increase_part_way(self) -> None:
        assert kr_score(kr(KRType.INCREASE, start=10, target=20, current=15)) == 0.5

    def test_decrease_part_way(self) -> None:
        # Time-to-first-value from 14 to 5 days, now at 8: 6 of 9 days cut.
        k = kr(KRType.DECREASE, start=14, target=5, current=8)
        assert kr_score(k) == pytest.approx(6 / 9)

    def test_overshoot_is_kept_raw_and_clamped_in_score(self) -> None:
        k = kr(KRType.INCREASE, start=0, target=10, current=14)
        assert kr_progress(k) == pytest.approx(1.4)
        assert kr_score(k) == 1.0

    def test_sliding_back_past_start_is_negative_raw_and_zero_score(self) -> None:
        k = kr(KRType.DECREASE, start=14, target=5, current=17)
        assert kr_progress(k) == pytest.approx(-1 / 3)
        assert kr_score(k) == 0.0

    def test_no_value_yet_scores_zero(self) -> None:
        assert kr_progress(kr(KRType.INCREASE, start=1, target=2)) == 0.0

    def test_missing_start_or_target_scores_zero(self) -> None:
        assert kr_score(kr(KRType.INCREASE, target=10, current=5)) == 0.0
        assert kr_score(kr(KRType.DECREASE, start=10, current=5)) == 0.0

    @pytest.mark.parametrize(
        ("kind", "current", "expected"),
        [(KRType.INCREASE, 5, 1.0), (KRType.INCREASE, 4, 0.0),
         (KRType.DECREASE, 5, 1.0), (KRType.DECREASE, 6, 0.0)],
    )
    def test_start_equals_target(self, kind: KRType, current: float, expected: float) -> None:
        assert kr_score(kr(kind, start=5, target=5, current=current)) == expected


class TestThresholds:
    @pytest.mark.parametrize(("current", "expected"), [(99.9, 1.0), (99.5, 1.0), (99.4, 0.0)])
    def test_above_is_inclusive(self, current: float, expected: float) -> None:
        assert kr_score(kr(KRType.ABOVE, target=99.5, current=current)) == expected

    @pytest.mark.parametrize(("current", "expected"), [(150, 1.0), (200, 1.0), (201, 0.0)])
    def test_below_is_inclusive(self, current: float, expected: float) -> None:
        assert kr_score(kr(KRType.BELOW, target=200, current=current)) == expected

    def test_no_value_scores_zero(self) -> None:
        assert kr_score(kr(KRType.ABOVE, target=1)) == 0.0
        assert kr_score(kr(KRType.BELOW, target=1)) == 0.0
        assert kr_score(kr(KRType.BELOW, current=0)) == 0.0


class TestOtherTypes:
    @pytest.mark.parametrize(
        ("current", "expected"), [(None, 0.0), (0, 0.0), (42, 0.42), (100, 1.0), (130, 1.0),
                                  (-5, 0.0)],
    )
    def test_percent(self, current: float | None, expected: float) -> None:
        assert kr_score(kr(KRType.PERCENT, current=current)) == pytest.approx(expected)

    def test_percent_progress_is_raw(self) -> None:
        assert kr_progress(kr(KRType.PERCENT, current=130)) == pytest.approx(1.3)

    @pytest.mark.parametrize(("current", "expected"), [(None, 0.0), (0, 0.0), (0.99, 0.0),
                                                       (1, 1.0), (2, 1.0)])
    def test_milestone(self, current: float | None, expected: float) -> None:
        assert kr_score(kr(KRType.MILESTONE, current=current)) == expected

    @pytest.mark.parametrize(("manual", "expected"), [(None, 0.0), (0.3, 0.3), (1.7, 1.0),
                                                      (-0.2, 0.0)])
    def test_manual(self, manual: float | None, expected: float) -> None:
        assert kr_score(kr(KRType.MANUAL, manual_score=manual)) == expected

    def test_manual_ignores_current(self) -> None:
        assert kr_score(kr(KRType.MANUAL, current=100, manual_score=0.2)) == 0.2

    def test_issues_weighted(self) -> None:
        issues = (IssueFact(closed=True, weight=2), IssueFact(closed=False),
                  IssueFact(closed=True))
        assert kr_score(kr(KRType.ISSUES, issues=issues)) == pytest.approx(3 / 4)

    def test_issues_none_linked(self) -> None:
        assert kr_score(kr(KRType.ISSUES)) == 0.0

    def test_issues_all_closed(self) -> None:
        assert kr_score(kr(KRType.ISSUES, issues=(IssueFact(closed=True),))) == 1.0

    def test_children_weighted_mean_of_given_pairs(self) -> None:
        k = kr(KRType.CHILDREN, children=("a", "b"))
        assert kr_score(k, [(1.0, 1.0), (0.4, 2.0)]) == pytest.approx(0.6)

    def test_children_without_children_scores_zero(self) -> None:
        assert kr_score(kr(KRType.CHILDREN)) == 0.0

    def test_nan_value_never_leaks(self) -> None:
        assert kr_score(kr(KRType.PERCENT, current=math.nan)) == 0.0
        assert kr_score(kr(KRType.MANUAL, manual_score=math.nan)) == 0.0
        assert kr_score(kr(KRType.INCREASE, start=0, target=math.inf, current=math.inf)) == 0.0


# --- properties ---------------------------------------------------------------------------

any_kr = st.builds(
    KRFacts,
    id=st.just("kr"),
    kr_type=st.sampled_from([t for t in KRType if t != KRType.CHILDREN]),
    start=optional_finite,
    target=optional_finite,
    current=optional_finite,
    manual_score=optional_finite,
    weight=st.floats(min_value=0.01, max_value=100),
    issues=st.lists(st.builds(IssueFact, closed=st.booleans(),
                              weight=st.floats(min_value=0, max_value=10)),
                    max_size=5).map(tuple),
)


@given(any_kr)
def test_score_is_always_within_bounds(k: KRFacts) -> None:
    assert 0.0 <= kr_score(k) <= 1.0


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 100)), max_size=6))
def test_children_score_is_within_bounds(pairs: list[tuple[float, float]]) -> None:
    assert 0.0 <= kr_score(kr(KRType.CHILDREN), pairs) <= 1.0


@given(start=finite, distance=st.floats(min_value=1e-3, max_value=1e6), a=finite, b=finite)
def test_increase_is_monotone_toward_target(
    start: float, distance: float, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    k = kr(KRType.INCREASE, start=start, target=start + distance)
    assert kr_score(_with(k, low)) <= kr_score(_with(k, high))


@given(start=finite, distance=st.floats(min_value=1e-3, max_value=1e6), a=finite, b=finite)
def test_decrease_is_monotone_toward_target(
    start: float, distance: float, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    k = kr(KRType.DECREASE, start=start, target=start - distance)
    # Moving toward the target means moving down.
    assert kr_score(_with(k, high)) <= kr_score(_with(k, low))


@given(threshold=finite, a=finite, b=finite)
def test_above_and_below_are_monotone(threshold: float, a: float, b: float) -> None:
    low, high = sorted((a, b))
    above = kr(KRType.ABOVE, target=threshold)
    below = kr(KRType.BELOW, target=threshold)
    assert kr_score(_with(above, low)) <= kr_score(_with(above, high))
    assert kr_score(_with(below, high)) <= kr_score(_with(below, low))


@given(a=finite, b=finite)
def test_percent_is_monotone(a: float, b: float) -> None:
    low, high = sorted((a, b))
    k = kr(KRType.PERCENT)
    assert kr_score(_with(k, low)) <= kr_score(_with(k, high))


def _with(k: KRFacts, current: float) -> KRFacts:
    return KRFacts(id=k.id, kr_type=k.kr_type, start=k.start, target=k.target, current=current)
