"""Admins' reminder texts render within bounds: refused fast and clearly, never a busy thread."""

from __future__ import annotations

import time

import pytest

from app.calendar import reminder_text, timeline

NESTED = ("{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}"
          "{% endfor %}")


def test_nested_huge_ranges_are_refused_fast_with_a_clear_error() -> None:
    started = time.monotonic()
    problem = timeline.check_text(NESTED)
    assert time.monotonic() - started < 1.0
    assert problem is not None and "range may count at most 100 items" in problem


def test_loops_together_are_bounded() -> None:
    text = ("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}x")
    started = time.monotonic()
    with pytest.raises(timeline.ReminderTextError, match="at most 1000 times"):
        timeline.render_text(text, timeline.SAMPLE_CONTEXT)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(("text", "words"), [
    ("{{ 'x' * 100000000 }}", "repeated text"),
    ("{{ 99 ** 999999999 }}", "power is too large"),
    ("{{ '%099999999d' % 1 }}", "% formatting"),
    ("{{ cycle.center(99999999) }}", "only function"),
    ("{{ lipsum(99999) }}", "only function"),
    ("{{ cycle|center(99999999) }}", "filter 'center'"),
    ("{% set a = cycle ~ cycle %}{{ a }}", "assign is not available"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro is not available"),
    ("{% for c in cycle %}{{ c }}{% endfor %}", "over range(...) only"),
    ("{{ cycle.__class__ }}", "attributes are not available"),
    ("{% for i in range(100) %}{{ cycle * 30 }}{% endfor %}", "longer than 3000"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
])
def test_unbounded_or_unsafe_texts_are_refused(text: str, words: str) -> None:
    started = time.monotonic()
    problem = timeline.check_text(text)
    assert time.monotonic() - started < 1.0
    assert problem is not None and words in problem
    assert problem.startswith("the reminder text does not render")


def test_ordinary_texts_still_render() -> None:
    text = ("{{ cycle|upper }} starts in {{ days_to_start }} days"
            "{% if weeks_to_start > 1 %} ({{ weeks_to_start }} weeks){% endif %}:"
            "{% for i in range(3) %} {{ loop.index }}{% endfor %} {{ 2 ** 10 }} {{ '-' * 3 }}")
    assert timeline.render_text(text, timeline.SAMPLE_CONTEXT) == \
        "FY27-Q1 starts in 14 days (2 weeks): 1 2 3 1024 ---"
    for rule in (*timeline.GITLAB_PRODUCT, *timeline.OKR_CYCLE):
        assert timeline.check_text(rule.text) is None, rule.key


def test_output_limit_is_slacks_section_size() -> None:
    assert reminder_text.MAX_OUTPUT <= 3000
