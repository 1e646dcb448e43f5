"""``suggester`` binds ``suggest_status``'s gaps for loops over every KR of a cycle: it
must give exactly what the rule as written gives, or the lights of a large cycle would
differ from a small one's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scoring import suggest_status, suggester

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
