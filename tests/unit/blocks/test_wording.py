"""Plurals, first names and values with units as Slack shows them (blocks.words, blocks.units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocks.units import format_value, number
from blocks.words import count, first_name, noun, pick, singular, your


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (1.2, "$M", "$1.2M"), (300, "€k", "€300k"), (9.44, "$M ARR", "$9.44M ARR"),
    (1.2, "M€", "€1.2M"), (300, "k€", "€300k"), (1500, "$", "$1,500"), (30, "£", "£30"),
    (-0.5, "$M", "-$0.5M"), (-0.001, "$M", "$0M"), (2, "$/mo", "$2/mo"),
    (45, "%", "45%"), (45.5, "percent", "45.5%"), (99.9, "% uptime", "99.9% uptime"),
    (300, "ms", "300 ms"), (1, "ms", "1 ms"), (5, "days", "5 days"), (1, "days", "1 day"),
    (1.0, "deals", "1 deal"), (2, "deals", "2 deals"), (1, "game days", "1 game day"),
    (3, "game days", "3 game days"), (1.5, "days", "1.5 days"), (1, "stories", "1 story"),
    (1, "matches", "1 match"), (1, "hrs", "1 hr"), (1, "NPS", "1 NPS"), (1, "h", "1 h"),
    (1, "status", "1 status"), (7, None, "7"), (7, "", "7"), (7, "  days ", "7 days"),
    (None, "$M", "–"), (float("nan"), "%", "–"), (float("inf"), "ms", "∞ ms"),
    (0.125, None, "0.12"), (1e20, None, "1e+20"), (-0.0001, None, "0"),
])
def test_format_value(value: float | None, unit: str | None, shown: str) -> None:
    assert format_value(value, unit) == shown


def test_number_keeps_two_decimals_and_separates_thousands() -> None:
    assert number(1234567) == "1,234,567" and number(0.5) == "0.5" and number(None) == "–"
    assert number(-2.0) == "-2" and number(float("-inf")) == "-∞"


@given(st.one_of(st.none(), st.floats()), st.one_of(st.none(), st.text()))
def test_any_value_and_unit_gives_a_short_text(value: float | None, unit: str | None) -> None:
    shown = format_value(value, unit)
    # Short enough for any Block Kit text it goes in (button 75, option 75, header 150).
    assert shown and len(shown) <= 75
    assert "\n" not in shown


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
       st.sampled_from(["$M", "€k", "$", "M€"]))
def test_money_puts_the_symbol_first(value: float, unit: str) -> None:
    shown = format_value(value, unit)
    assert shown.lstrip("-")[0] in "$€" and " " not in shown


def test_plurals() -> None:
    assert count(1, "key result") == "1 key result"
    assert count(2, "key result") == "2 key results" and count(0, "line") == "0 lines"
    assert count(2, "person", "people") == "2 people" and noun(1, "check-in") == "check-in"
    assert your(1, "key result") == "your key result"
    assert your(3, "key result") == "your 3 key results"
    assert pick(1, "is", "are") == "is" and pick(2, "is", "are") == "are"


@given(st.text())
def test_singular_never_grows_and_keeps_the_head(unit: str) -> None:
    one = singular(unit)
    assert len(one) <= len(unit) and one.rpartition(" ")[0] == unit.rpartition(" ")[0]


@pytest.mark.parametrize(("name", "first"), [
    ("Arjun Mehta", "Arjun"), ("Kenji", "Kenji"), ("  Ada  Lovelace ", "Ada"), ("", "there"),
    (None, "there"),
])
def test_first_name(name: str | None, first: str) -> None:
    assert first_name(name) == first
