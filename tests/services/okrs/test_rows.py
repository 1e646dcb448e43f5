"""Plain rows for the read model: the same values SQLAlchemy gives, one pipeline on PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.models import Cycle, KeyResult, Objective, Workspace
from app.services.okrs import load, rows
from app.services.okrs import report as okrs
from tests.dbutil import recorded_statements


def _seed(session: Session) -> None:
    ws = Workspace(name="acme", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(ws)
    session.flush()
    cycle = Cycle(workspace_id=ws.id, name="Q1", start_date=date(2026, 2, 1),
                  end_date=date(2026, 4, 30))
    session.add(cycle)
    session.flush()
    obj = Objective(workspace_id=ws.id, key="o", cycle_id=cycle.id, title="O",
                    created_at=datetime(2026, 1, 1, tzinfo=UTC),
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(obj)
    session.flush()
    session.add_all([KeyResult(
        workspace_id=ws.id, key=f"k{n}", objective_id=obj.id, title=f"KR {n}",
        start_value=0.5 * n, target_value=None if n else 10.0, due_date=date(2026, 3, n + 1),
        targets=[{"on": "2026-03-01", "value": n}] if n else None,
        last_checkin_at=datetime(2026, 3, 2, 9, n, tzinfo=UTC) if n else None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC), updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    ) for n in range(3)])
    session.flush()  # not committed: the reads below must see this transaction's rows


def test_plain_rows_are_what_sqlalchemy_returns(session: Session) -> None:
    _seed(session)
    stmt = select(KeyResult.key, KeyResult.start_value, KeyResult.target_value,
                  KeyResult.due_date, KeyResult.targets, KeyResult.last_checkin_at,
                  KeyResult.state).order_by(KeyResult.key)
    expected = [tuple(r) for r in session.execute(stmt)]
    got = rows.rows_of(session.connection(), stmt)
    assert got == expected
    assert [type(v) for v in got[1]] == [type(v) for v in expected[1]]
    assert got[1][5].tzinfo is UTC  # aware UTC datetimes, as the column type hands them out


def test_the_selects_of_one_read_come_back_in_order(session: Session) -> None:
    _seed(session)
    keys = select(KeyResult.key).order_by(KeyResult.key.desc())
    count = select(func.count()).select_from(KeyResult)
    nothing = select(KeyResult.key).where(KeyResult.key == "none")
    assert rows.rows_many(session.connection(), [keys, count, nothing]) == [
        [("k2",), ("k1",), ("k0",)], [(3,)], []]
    # The connection is usable as before (no pipeline left open).
    assert session.scalar(select(func.count()).select_from(Objective)) == 1


def test_a_failing_select_raises_and_reads_nothing(session: Session) -> None:
    _seed(session)
    bad = select(func.sqrt(-1.0) if session.get_bind().dialect.name == "postgresql"
                 else func.no_such_function())
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error class
        rows.rows_many(session.connection(), [select(KeyResult.key), bad])


def test_a_statement_of_the_same_shape_reads_with_its_own_values(session: Session) -> None:
    _seed(session)
    by_key = [rows.rows_of(session.connection(), select(KeyResult.title).where(
        KeyResult.key == key)) for key in ("k0", "k2", "k1", "none")]
    assert by_key == [[("KR 0",)], [("KR 2",)], [("KR 1",)], []]
    # An IN list of values (its SQL text depends on the list) reads right too.
    listed = rows.rows_many(session.connection(), [
        select(KeyResult.key).where(KeyResult.key.in_(["k1", "k2"])).order_by(KeyResult.key),
        select(KeyResult.key).where(KeyResult.key.in_(["k0"]))])
    assert listed == [[("k1",), ("k2",)], [("k0",)]]


def test_prefetched_rows_are_the_same_and_read_once(session: Session) -> None:
    _seed(session)
    keys = select(KeyResult.key, KeyResult.last_checkin_at).order_by(KeyResult.key)
    expected = rows.rows_of(session.connection(), keys)
    with rows.prefetch(session.connection(), [keys, select(func.count()).select_from(
            KeyResult)]) as fetch:
        first = fetch()
        assert first == [expected, [(3,)]]
        assert fetch() is first
    assert session.scalar(select(func.count()).select_from(Objective)) == 1


def test_prefetch_sends_the_statements_when_the_block_starts(session: Session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        # No pipeline there: the statements run when their rows are asked for.
        keys = select(KeyResult.key)
        with recorded_statements(session.connection()) as seen, \
                rows.prefetch(session.connection(), [keys]) as fetch:
            assert seen == []
            assert fetch() == [[]] and len(seen) == 1
        return
    engine = session.get_bind().engine
    pid = session.scalar(select(func.pg_backend_pid()))
    held = select(func.count()).select_from(text("pg_locks")).where(
        text("locktype = 'advisory' AND objid = 424242 AND pid = :pid")).params(pid=pid)
    with rows.prefetch(session.connection(), [select(func.pg_advisory_xact_lock(424242))]) \
            as fetch:
        # Nothing was read yet, and another session already sees the lock taken.
        with engine.connect() as other:
            deadline = time.monotonic() + 10
            while not other.scalar(held) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert other.scalar(held) == 1
        assert len(fetch()[0]) == 1  # (pg_advisory_xact_lock returns void)


def test_the_cycle_read_lists_each_objectives_krs_in_position_order(session: Session) -> None:
    _seed(session)  # objective "o" with k0, k1, k2 written in that order
    ws_id = session.scalars(select(Workspace.id)).one()
    cycle = session.scalars(select(Cycle)).one()
    other = Objective(workspace_id=ws_id, key="p", cycle_id=cycle.id, title="P", position=-1,
                      created_at=datetime(2026, 1, 1, tzinfo=UTC),
                      updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(other)
    session.flush()
    # Interleaved with o's, and positions that contradict the order of writing, ties by id.
    for n, position in ((3, 1), (4, 0), (5, 1)):
        session.add(KeyResult(workspace_id=ws_id, key=f"k{n}", objective_id=other.id,
                              title=f"KR {n}", position=position,
                              created_at=datetime(2026, 1, 1, tzinfo=UTC),
                              updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
    for key, position in (("k0", 2), ("k1", 1), ("k2", 0)):
        session.scalars(select(KeyResult).where(KeyResult.key == key)).one().position = position
    session.flush()
    read = load.cycle_rows(session, ws_id, cycle)
    assert [o.key for o in read.objectives] == ["p", "o"]
    by_objective: dict[int, list[str]] = {}
    for kr in read.key_results:
        by_objective.setdefault(kr.objective_id, []).append(kr.key)
    assert by_objective == {other.id: ["k4", "k3", "k5"],
                            read.objectives[1].id: ["k2", "k1", "k0"]}


def test_a_kr_whose_objective_the_read_did_not_see_waits_for_the_next_read(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # The objectives and the KRs are two statements, each with its own snapshot: an objective
    # and its KR committed between them come as a KR without its objective.
    _seed(session)
    ws_id = session.scalars(select(Workspace.id)).one()
    cycle = session.scalars(select(Cycle)).one()
    older = load._objectives_query
    monkeypatch.setattr(load, "_objectives_query", lambda ws, c: older(ws, c).where(
        Objective.key != "o"))
    read = load.cycle_rows(session, ws_id, cycle)
    assert (read.objectives, read.key_results) == ([], [])
    report = okrs.cycle_report(session=session, workspace_id=ws_id, cycle=cycle,
                               today=date(2026, 3, 2), now=datetime(2026, 3, 2, tzinfo=UTC),
                               settings=ScoringSettings())
    assert report.objectives == []


def test_a_statement_inside_a_prefetch_block_reads_the_prefetched_rows_first(
        session: Session) -> None:
    _seed(session)
    keys = select(KeyResult.key).order_by(KeyResult.key)
    with rows.prefetch(session.connection(), [keys]) as fetch:
        assert session.scalar(select(func.count()).select_from(Objective)) == 1
        session.add(Objective(workspace_id=session.scalars(select(Workspace.id)).one(),
                              key="q", cycle_id=session.scalars(select(Cycle.id)).one(),
                              title="Q", created_at=datetime(2026, 1, 1, tzinfo=UTC),
                              updated_at=datetime(2026, 1, 1, tzinfo=UTC)))
        session.flush()
        assert fetch() == [[("k0",), ("k1",), ("k2",)]]
    with pytest.raises(ValueError), rows.prefetch(session.connection(), [keys]):
        raise ValueError("the block failed")
    assert session.scalar(select(func.count()).select_from(Objective)) == 2
