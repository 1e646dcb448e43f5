"""The pace's per-KR fast paths give exactly what the rules as written give.

``suggester`` binds ``suggest_status``'s gaps for loops over every KR of a cycle, and
``weighted_expected`` keeps running sums instead of building pairs; both must agree with the
plain definitions bit for bit, or the lights of a large cycle would differ from a small one's.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain import KRFacts, KRState, KRType
from scoring import suggest_status, suggester, weighted_expected
from scoring._num import weighted_mean
from scoring.rollups import counted_krs

unit = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)
gaps = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@given(unit, unit, gaps, gaps)
def test_suggester_is_suggest_status(score: float, expected: float, yellow: float,
                                     red: float) -> None:
    suggest = suggester(yellow_gap=yellow, red_gap=red)
    assert suggest(score, expected) is suggest_status(score, expected, yellow_gap=yellow,
                                                      red_gap=red)


def test_suggester_on_the_boundaries() -> None:
    suggest = suggester(yellow_gap=0.15, red_gap=0.30)
    assert suggest(0.30, 0.45).value == "yellow"  # 0.45 - 0.30 lands on the yellow gap
    assert suggest(0.15, 0.45).value == "red"
    assert suggest(1.0, 5.0).value == "green"


def _reference(krs: list[KRFacts], expected: dict[str, float],
               children: list[tuple[float, float]], mode_children: bool,
               mode_both: bool) -> float:
    """The rule as first written: pairs of the counted KRs, then weighted_mean."""
    pairs = [(expected.get(kr.id, 0.0), kr.weight) for kr in counted_krs(krs)]
    if mode_children and children:
        return weighted_mean(children)
    if mode_both:
        return weighted_mean(pairs + children)
    return weighted_mean(pairs)


weights = st.sampled_from([0.0, -1.0, 0.5, 1.0, 2.0, 3.7])
krs = st.lists(st.tuples(st.sampled_from(list(KRState)), weights,
                         st.one_of(st.none(), unit)), max_size=6)
pairs = st.lists(st.tuples(unit, weights), max_size=4)


@given(krs, pairs, st.booleans(), st.booleans())
def test_weighted_expected_is_the_weighted_mean_of_the_pairs(
        given_krs: list[tuple[KRState, float, float | None]],
        children: list[tuple[float, float]], mode_children: bool, mode_both: bool) -> None:
    facts = [KRFacts(id=f"k{n}", kr_type=KRType.MANUAL, state=state, weight=weight)
             for n, (state, weight, _) in enumerate(given_krs)]
    expected = {f"k{n}": value for n, (_, _, value) in enumerate(given_krs) if value is not None}
    got = weighted_expected(facts, expected, children, mode_children=mode_children,
                            mode_both=mode_both)
    assert got == _reference(facts, expected, children, mode_children, mode_both)
    # Any iterable of children, as before.
    assert got == weighted_expected(facts, expected, iter(children),
                                    mode_children=mode_children, mode_both=mode_both)
