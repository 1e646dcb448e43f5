"""Property: however time is split into ticks, the ladder enqueues the same follow-ups, each
step of each prompt once and each lead's DM once a week (random working weeks, hours and
zones; SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.calendar.workweek import day_names
from app.db import unit_of_work
from app.models import Delivery, Person, Workspace
from scheduler.jobs import enqueue
from tests.fixtures.scheduler import make_settings, seed
from tests.scheduler.strategies import TIMES, WORK_DAYS, WORK_HOURS, ZONES, tick_splits
from tests.scheduler.test_ladder import LADDER

START = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
END = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)  # past the first lead DMs (18 March)
PEOPLE = ("U0ANA", "U0BO", "U0KAI", "U0LEA")
GRACE = 6  # hours: ticks at most this far apart, so no prompt is missed in either split
Key = tuple[str, str, str]


@contextmanager
def isolated(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory whose commits are rolled back at the end (SQLite included)."""
    conn = engine.connect()
    dbapi = conn.connection.dbapi_connection
    manual = engine.dialect.name == "sqlite" and dbapi.isolation_level is not None  # type: ignore[union-attr]
    if manual:
        dbapi.isolation_level = None  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN")
    outer = None if manual else conn.begin()
    try:
        yield sessionmaker(bind=conn, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
    finally:
        if outer is not None:
            outer.rollback()
        else:
            conn.exec_driver_sql("ROLLBACK")
            dbapi.isolation_level = ""  # type: ignore[union-attr]
        conn.close()


def simulate(engine: Engine, people: dict[str, tuple[str, tuple[int, ...], str]],
             schedule: dict[str, object], ticks: list[datetime]) -> list[Delivery]:
    """Enqueue at each tick; every row due by then counts as sent (the ladder follows sent
    prompts). Returns the ladder's rows."""
    config = make_settings(None)
    with isolated(engine) as factory:
        seed(factory, LADDER)
        with unit_of_work(factory) as s:
            s.scalars(select(Workspace)).one().checkin_schedule = schedule
            for person in s.scalars(select(Person)):
                tz, days, hours = people[person.slack_id]
                person.tz, person.work_days, person.work_hours = tz, day_names(days), hours
        for at in ticks:
            enqueue(factory, config, at)
            with unit_of_work(factory) as s:
                s.execute(update(Delivery).where(Delivery.state == "pending",
                                                 Delivery.due_at <= at)
                          .values(state="sent", sent_at=Delivery.due_at))
        with unit_of_work(factory) as s:
            return list(s.scalars(select(Delivery).where(
                Delivery.kind.in_(("nudge", "escalation")))))


def keys(rows: list[Delivery]) -> set[Key]:
    return {(r.kind, r.target, r.occurrence) for r in rows}


PERSON = st.tuples(st.sampled_from(ZONES), WORK_DAYS, WORK_HOURS)


@settings(max_examples=5, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({p: PERSON for p in PEOPLE}),
       st.sampled_from(["mon", "wed", "fri", "sun"]), TIMES,
       tick_splits(START, END, min_gap_hours=1, max_gap_hours=GRACE),
       tick_splits(START, END, min_gap_hours=3, max_gap_hours=GRACE))
def test_ladder_rows_do_not_depend_on_how_ticks_split_time(
        db_engine: Engine, people: dict[str, tuple[str, tuple[int, ...], str]], day: str,
        at: object, one: list[datetime], other: list[datetime]) -> None:
    schedule = {"cadence": "weekly", "day": day, "time": f"{at:%H:%M}"}
    note(f"people={people} schedule={schedule}")
    first = simulate(db_engine, people, schedule, one)
    second = simulate(db_engine, people, schedule, other)
    assert keys(first) == keys(second)
    for rows in (first, second):
        # Each step of each prompt at most once, whatever its rank in the week.
        steps = Counter((r.target, (r.payload or {}).get("base"), (r.payload or {}).get("step"))
                        for r in rows if r.kind == "nudge")
        assert max(steps.values(), default=1) == 1
        assert all(r.target == "U0LEA" for r in rows if r.kind == "escalation")
