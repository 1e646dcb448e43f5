"""A tick enqueues many workspaces from facts read for all of them at once: the rows must be
exactly those each workspace enqueued alone gets (SQLite and PostgreSQL), tick after tick,
prompts, digests, reminders, nudges and lead DMs included, and a workspace where nothing is
due costs no statement of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Delivery, SchedulerState, Workspace
from app.services.data.imports import load
from scheduler import enqueue as batching
from scheduler.enqueue import enqueue, enqueue_batch
from tests.dbutil import recorded_statements
from tests.fixtures.scheduler import IMPORTED_AT, ORG, make_settings
from tests.scheduler.test_ladder import LADDER
from tests.scheduler.test_ladder_property import isolated

# A third organisation: team schedules, working weeks, a holiday calendar and a timeline
# whose reminders go to channels and to DMs, in zones far apart.
MIXED = """
settings: {timezone: Asia/Kolkata, timeline: gitlab-product, holidays: IN,
           work_days: [mon, tue, wed, thu, fri], work_hours: "09:00-18:00"}
cycles:
  - {name: FY26-Q4, start: 2025-11-01, end: 2026-01-31, phase: closed}
  - {name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}
people:
  - {slack_id: U1AMI, name: Ami Rao, tz: Asia/Kolkata}
  - {slack_id: U1BEN, name: Ben Cole, tz: America/Los_Angeles, work_days: [tue, wed, thu]}
  - {slack_id: U1CHO, name: Cho Park, tz: Asia/Tokyo, checkin: {cadence: weekly, day: thu,
     time: "17:30"}}
  - {slack_id: U1DAN, name: Dan Moss, tz: Australia/Sydney, holidays: AU-NSW}
teams:
  - {id: core, name: Core, lead: U1AMI, channel: C1CORE, members: [U1BEN, U1CHO, U1DAN],
     checkin: {cadence: biweekly, day: [mon, wed], time: "09:15"},
     digest: {cadence: weekly, day: wed, time: "15:00"}}
objectives:
  - id: speed
    cycle: FY27-Q1
    team: core
    owner: U1AMI
    title: Ship faster
    key_results:
      - {id: kr-lead, title: Lead time from 10 to 4 days, owner: U1BEN, start: 10, target: 4}
      - {id: kr-rel, title: Weekly releases, owner: U1CHO, type: milestone}
      - {id: kr-bug, title: Bugs from 40 to 10, owner: U1DAN, start: 40, target: 10}
"""
ORGS = (ORG, LADDER, MIXED, ORG.replace("timeline: okr-cycle", "timeline: none"))
START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
TICKS = [START + timedelta(hours=5 * i) for i in range(4 * 24 // 5 * 5)]  # 19 days
Row = tuple[Any, ...]


def seed_all(factory: sessionmaker[Session]) -> list[int]:
    """One workspace per organisation, and one disabled (it gets nothing)."""
    ids = []
    with unit_of_work(factory) as s:
        for i, text in enumerate((*ORGS, ORG)):
            ws = Workspace(name=f"ws{i}", slack_team_id=f"T{i:04d}", created_at=IMPORTED_AT,
                           holiday_dates=[])
            s.add(ws)
            s.flush()
            load.import_text(session=s, workspace=ws, text=text, now=IMPORTED_AT)
            ids.append(ws.id)
        s.get_one(Workspace, ids[-1]).disabled_at = IMPORTED_AT
    return ids


def rows(factory: sessionmaker[Session], ids: list[int]) -> set[Row]:
    """Every delivery row as the workspace's position and its contents (ids differ)."""
    with unit_of_work(factory) as s:
        return {(ids.index(d.workspace_id), d.kind, d.target, d.occurrence, d.due_at, d.state,
                 d.error, d.person_id is not None, d.team_id is not None,
                 d.cycle_id is not None, d.tz, repr(sorted((d.payload or {}).items())))
                for d in s.scalars(select(Delivery))}


def simulate(engine: Engine, together: bool) -> tuple[set[Row], list[int]]:
    """Tick through the fortnight, together or one workspace at a time; what is due by a
    tick counts as sent (the ladder follows sent prompts)."""
    settings = make_settings(None)
    counts = []
    with isolated(engine) as factory:
        ids = seed_all(factory)
        for at in TICKS:
            if together:
                counts.append(sum(enqueue(factory, settings, at).values()))
            else:
                total = 0
                for ws_id in ids[:-1]:
                    with unit_of_work(factory) as s:
                        total += sum(enqueue_batch(s, [s.get_one(Workspace, ws_id)], settings,
                                                   at).values())
                counts.append(total)
            with unit_of_work(factory) as s:
                s.execute(update(Delivery).where(Delivery.state == "pending",
                                                 Delivery.due_at <= at)
                          .values(state="sent", sent_at=Delivery.due_at))
        with unit_of_work(factory) as s:  # no payload is stored as JSON null, as ever
            assert s.scalar(select(func.count()).select_from(Delivery).where(
                text("deliveries.payload IS NULL"))) == 0
        return rows(factory, ids), counts


def test_a_batch_enqueues_exactly_what_each_workspace_alone_does(db_engine: Engine) -> None:
    together, per_tick = simulate(db_engine, together=True)
    alone, per_tick_alone = simulate(db_engine, together=False)
    assert together == alone
    assert per_tick == per_tick_alone  # and says so: the same counts, tick by tick
    kinds = {r[1] for r in together}
    assert {"prompt", "digest", "reminder", "nudge", "escalation"} <= kinds
    assert {r[0] for r in together} == {0, 1, 2, 3}  # not the disabled workspace


def test_batches_of_a_few_give_the_same_rows(db_engine: Engine,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = simulate(db_engine, together=True)
    monkeypatch.setattr(batching, "BATCH", 2)
    assert simulate(db_engine, together=True)[0] == whole


@pytest.fixture()
def statements(db_engine: Engine) -> Iterator[list[str]]:
    with recorded_statements(db_engine) as seen:
        yield seen


def test_statements_do_not_grow_with_the_workspaces(db_engine: Engine,
                                                    statements: list[str]) -> None:
    """Sixteen workspaces, prompts due in each: the statements of one, not sixteen times."""
    settings = make_settings(None)
    at = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # Monday morning in Berlin
    with isolated(db_engine) as factory:
        with unit_of_work(factory) as s:
            for i in range(16):
                ws = Workspace(name=f"ws{i}", created_at=IMPORTED_AT, holiday_dates=[])
                s.add(ws)
                s.flush()
                load.import_text(session=s, workspace=ws, text=ORG, now=IMPORTED_AT)
        statements.clear()
        enqueued = enqueue(factory, settings, at)
        first = len(statements)
        statements.clear()
        again = enqueue(factory, settings, at + timedelta(minutes=1))
        with unit_of_work(factory) as s:
            watermarks = set(s.scalars(select(SchedulerState.last_tick_at)))
    assert enqueued["prompt:pending"] == 16 * 2  # Ada in Berlin, Dev in Kathmandu
    assert not again
    assert first <= 24, statements  # one workspace at a time: over 200
    assert len(statements) <= 24, statements
    assert watermarks == {at + timedelta(minutes=1)}


def test_a_workspace_that_fails_is_left_out_alone(db_engine: Engine,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """One workspace's computation failing leaves its watermark where it was (the next tick
    looks again) and the others enqueue as usual."""
    settings = make_settings(None)
    at = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    real = batching.due_digests

    def broken(facts: Any, start: datetime, now: datetime) -> Any:
        if facts.ws.name == "ws1":
            raise RuntimeError("boom")
        return real(facts, start, now)

    monkeypatch.setattr(batching, "due_digests", broken)
    with isolated(db_engine) as factory:
        ids = seed_all(factory)
        counts = enqueue(factory, settings, at)
        with unit_of_work(factory) as s:
            marks = dict(s.execute(select(SchedulerState.workspace_id,
                                          SchedulerState.last_tick_at)).tuples().all())
            per_ws = {ws_id for ws_id, in s.execute(select(Delivery.workspace_id))}
    assert counts["prompt:pending"] > 0
    assert ids[1] not in marks and ids[1] not in per_ws
    assert {ids[0], ids[2], ids[3]} <= marks.keys()
    assert "scheduler.enqueue_failed" in caplog.text
