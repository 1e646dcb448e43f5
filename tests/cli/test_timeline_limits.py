"""``okr timeline add`` refuses an unbounded reminder text at once, in one clear line."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.commands.context import Obj
from app.db import unit_of_work
from app.models import TimelineRule
from tests.cli.test_schedule import obj, run

__all__ = ["obj"]

NESTED = ("{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}"
          "{% endfor %}")


def test_nested_range_template_is_refused_fast_at_save(obj: Obj) -> None:
    started = time.monotonic()
    code, out = run(obj, "timeline", "add", "loops", "--text", NESTED)
    assert time.monotonic() - started < 1.0
    assert code == 1 and "range may count at most 100 items" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1
    with unit_of_work(obj.container.session_factory) as s:
        assert s.scalars(select(TimelineRule)).all() == []
