"""A large import refreshes the planner's statistics of the tables it wrote (PostgreSQL)."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml
from sqlalchemy import Engine, text

from app.db import make_session_factory, unit_of_work
from app.services.data.imports import load
from app.services.tenancy import workspaces


def big_file(objectives: int) -> str:
    people = [{"slack_id": f"U{i:05d}", "name": f"Person {i}"} for i in range(20)]
    return yaml.safe_dump({
        "cycles": [{"name": "FY27-Q1", "start": "2026-02-01", "end": "2026-04-30"}],
        "people": people,
        "teams": [{"id": "team", "name": "Team", "lead": "U00000"}],
        "objectives": [{
            "id": f"o{n}", "title": f"Objective {n}", "team": "team", "owner": "U00001",
            "key_results": [{"id": f"o{n}-k{k}", "title": f"KR {k}", "owner": "U00002",
                             "start": 0, "target": 10, "current": 5} for k in range(3)],
        } for n in range(objectives)],
    })


def reltuples(engine: Engine, table: str) -> float:
    with engine.connect() as conn:
        value = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"),
                            {"t": table})
    assert value is not None
    return float(value)


@pytest.mark.parametrize("fresh_engine", ["postgresql"], indirect=True)
def test_a_large_import_analyses_what_it_wrote(fresh_engine: Engine, now: datetime) -> None:
    assert reltuples(fresh_engine, "key_results") <= 0  # never analysed
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as session:
        ws = workspaces.default_workspace(session=session, now=now)
        load.import_text(session=session, workspace=ws, text=big_file(400), now=now)
    assert reltuples(fresh_engine, "key_results") == 1200
    assert reltuples(fresh_engine, "objectives") == 400
    assert reltuples(fresh_engine, "checkins") == 1200


@pytest.mark.parametrize("fresh_engine", ["postgresql"], indirect=True)
def test_a_small_import_leaves_it_to_autovacuum(fresh_engine: Engine, now: datetime) -> None:
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as session:
        ws = workspaces.default_workspace(session=session, now=now)
        load.import_text(session=session, workspace=ws, text=big_file(10), now=now)
    assert reltuples(fresh_engine, "key_results") <= 0
