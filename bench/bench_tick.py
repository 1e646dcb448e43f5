"""Benchmark: one scheduler tick over 10,000 people with schedules.

Writes an organisation in bulk to a fresh PostgreSQL database (``--sqlite`` for a SQLite
file): N people over a dozen time zones (DST and half-hour zones included), 100 teams with
a mix of weekly, biweekly and monthly check-in schedules, some personal overrides, one KR per
person. Then, at an instant where a few thousand prompts are due, times:

* the due computation: loading the effective schedules and working out what is due
  (``app.services.schedules.checkin_plans`` + ``scheduler.jobs.due_prompts``), target < 1 s;
* the whole enqueue pass (the above plus digests, reminders and nudges, and the bulk
  ``INSERT ... ON CONFLICT DO NOTHING``), and a repeated pass, which inserts nothing.

    .venv/bin/python bench/bench_tick.py [--people N] [--sqlite] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert

from app.config import Settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember, Workspace
from app.services.scheduling import schedules, workweeks
from scheduler.jobs import due_prompts, enqueue
from tests.dbutil import fresh_postgres_database

TARGET_SECONDS = 1.0
NOW = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # Monday morning in Europe: many are due
CREATED = datetime(2026, 1, 5, tzinfo=UTC)
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
         "America/Nuuk", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney",
         "Australia/Lord_Howe", "Asia/Tokyo", "Africa/Lagos", "America/Sao_Paulo"]
TEAM_SCHEDULES: list[dict[str, Any] | None] = [
    None, None, {"cadence": "weekly", "day": ["mon", "thu"], "time": "09:30"},
    {"cadence": "biweekly", "day": "mon", "time": "10:00"},
    {"cadence": "monthly", "nth": 1, "day": "mon", "time": "11:00"},
    {"cadence": "every_3_weeks", "day": "tue", "time": "08:45"},
]


def build(engine: Engine, people: int) -> None:
    """The organisation, in bulk (explicit ids)."""
    teams = max(people // 100, 1)
    with engine.begin() as conn:
        conn.execute(insert(Workspace.__table__), [{
            "id": 1, "name": "bench", "fiscal_year_start_month": 2, "timezone": "Europe/Berlin",
            "timeline_preset": "gitlab-product", "holiday_dates": [], "created_at": CREATED}])
        conn.execute(insert(Cycle.__table__), [{
            "id": 1, "workspace_id": 1, "name": "FY27-Q1", "start_date": date(2026, 2, 1),
            "end_date": date(2026, 4, 30), "phase": "active"}])
        conn.execute(insert(Person.__table__), [{
            "id": i + 1, "workspace_id": 1, "slack_id": f"U{i:07d}", "name": f"Person {i}",
            "tz": ZONES[i % len(ZONES)], "active": i % 50 != 0, "is_admin": False,
            "created_at": CREATED,
            "checkin_schedule": {"cadence": "weekly", "day": "mon", "time": "08:00"}
            if i % 23 == 0 else None} for i in range(people)])
        conn.execute(insert(Team.__table__), [{
            "id": t + 1, "workspace_id": 1, "key": f"team{t}", "name": f"Team {t}",
            "kind": "team", "channel_id": f"C{t:07d}", "lead_id": t * 100 + 1,
            "checkin_schedule": TEAM_SCHEDULES[t % len(TEAM_SCHEDULES)]} for t in range(teams)])
        conn.execute(insert(TeamMember.__table__), [{
            "workspace_id": 1, "team_id": (i // 100) % teams + 1, "person_id": i + 1}
            for i in range(people)])
        conn.execute(insert(Objective.__table__), [{
            "id": t + 1, "workspace_id": 1, "key": f"o{t}", "cycle_id": 1, "team_id": t + 1,
            "owner_id": t * 100 + 1, "title": f"Objective {t}", "visibility": "public",
            "commitment": "committed", "is_development": False, "rollup_mode": "krs",
            "is_draft": False, "position": t, "created_at": CREATED, "updated_at": CREATED}
            for t in range(teams)])
        conn.execute(insert(KeyResult.__table__), [{
            "id": i + 1, "workspace_id": 1, "key": f"kr{i}", "objective_id": (i // 100) % teams
            + 1, "title": f"KR {i}", "kr_type": "increase", "start_value": 0.0,
            "target_value": 10.0, "weight": 1.0, "owner_id": i + 1, "state": "active",
            "position": i % 100, "created_at": CREATED, "updated_at": CREATED}
            for i in range(people)])


@contextmanager
def database(sqlite: bool) -> Iterator[Engine]:
    if sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def due_computation(engine: Engine, settings: Settings) -> tuple[float, int]:
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as s:
        ws = s.get(Workspace, 1)
        assert ws is not None
        cycles = schedules.cycles_of(session=s, workspace_id=1)
        plans = schedules.checkin_plans(session=s, ws=ws)
        owners = schedules.kr_owner_ids(session=s, workspace_id=1, cycle_id=1)
        weeks = workweeks.weeks_for(s, ws)  # each person's working week, in bulk
        due = due_prompts(plans, cycles, lambda _c: owners,
                          NOW - timedelta(hours=settings.grace_hours), NOW, weeks)
    return time.perf_counter() - started, len(due)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    args = parser.parse_args()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with database(args.sqlite) as engine:
        t0 = time.perf_counter()
        build(engine, args.people)
        print(f"built {args.people:,} people, {args.people // 100} teams "
              f"({engine.dialect.name}) in {time.perf_counter() - t0:.1f} s")
        timings = []
        for _ in range(args.repeat):
            seconds, due = due_computation(engine, settings)
            timings.append(seconds)
        best, median = min(timings), statistics.median(timings)
        print(f"due computation: {due:,} prompts due of {args.people:,} people; "
              f"best {best:.3f} s, median {median:.3f} s (target < {TARGET_SECONDS:.1f} s)")
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        first = enqueue(factory, settings, NOW)
        t1 = time.perf_counter()
        again = enqueue(factory, settings, NOW)
        t2 = time.perf_counter()
        print(f"enqueue pass: {sum(first.values()):,} rows inserted in {t1 - t0:.3f} s "
              f"({dict(first)}); repeated pass: {sum(again.values())} rows in {t2 - t1:.3f} s")
    return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
