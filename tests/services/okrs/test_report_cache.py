"""The per-process report cache behind /okr mine: a cached answer costs one query, and any
change to what it kept (cycles, the organisation's time zone, teams) is seen at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.models import Cycle, Workspace
from app.services.errors import NotFound
from app.services.okrs import mine
from app.services.okrs.cache import ReportCache
from tests.services.helpers import SMALL_ORG, run_import


def _current(session: Session, cache: ReportCache, now: datetime,
             name: str | None = None) -> mine.CycleReport | None:
    if "ws_id" not in session.info:
        session.info["ws_id"] = session.scalars(select(Workspace.id)).one()
    ws_id = session.info["ws_id"]
    return mine.current_report(session=session, workspace_id=ws_id, now=now,
                               settings=ScoringSettings(), cycle_name=name, cache=cache)


def _statements(session: Session) -> list[str]:
    seen: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute",
                 lambda _c, _cur, stmt, *_a: seen.append(stmt))
    return seen


@pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)
def test_a_cached_report_costs_one_query(session: Session, now: datetime) -> None:
    run_import(session, SMALL_ORG, now)
    session.commit()
    cache = ReportCache()
    first = _current(session, cache, now)
    seen = _statements(session)
    again = _current(session, cache, now)
    assert again is first
    assert len(seen) == 1 and "xmin" in seen[0]


@pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)
def test_new_cycles_names_and_time_zones_are_seen(session: Session, now: datetime) -> None:
    # Each change is committed: the stamp sees what other transactions wrote (in these
    # tests, each commit ends a savepoint: the next writes get a transaction id of their own).
    run_import(session, SMALL_ORG, now)
    session.commit()
    cache = ReportCache()
    report = _current(session, cache, now)
    assert report is not None
    ws = session.scalars(select(Workspace)).one()
    old = session.scalars(select(Cycle)).one()
    # The next cycle starts today: it becomes the current one.
    old.end_date = now.date() - timedelta(days=1)
    session.add(Cycle(workspace_id=ws.id, name="Next", start_date=now.date(),
                      end_date=now.date() + timedelta(days=80), phase="active"))
    session.commit()
    found = _current(session, cache, now)
    assert found is not None and found.cycle.name == "Next"
    named = _current(session, cache, now, old.name)
    assert named is not None and named.cycle.name == old.name
    with pytest.raises(NotFound, match="no cycle named 'Nope'"):
        _current(session, cache, now, "Nope")
    # Late in the UTC day it is already tomorrow in Auckland: the cycle's day moves on.
    late = datetime.combine(now.date(), datetime.min.time(), now.tzinfo) + timedelta(hours=23)
    before = _current(session, cache, late)
    ws.timezone = "Pacific/Auckland"
    session.commit()
    after = _current(session, cache, late)
    assert before is not None and after is not None
    assert after.cycle.day == before.cycle.day + 1
    assert isinstance(after.cycle.start, date)
