"""Pooled PostgreSQL connections: pinged before use only after sitting idle, and a dropped
one is replaced before a request sees it (what ``pool_pre_ping`` did for every checkout)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from app import db
from tests.dbutil import fresh_postgres_database


@pytest.fixture()
def engine() -> Iterator[Engine]:
    with fresh_postgres_database() as url:
        engine = db.make_engine(url, pool_size=1, max_overflow=0)
        try:
            yield engine
        finally:
            engine.dispose()


def _count_pings(engine: Engine) -> list[int]:
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(1)
        return ping(dbapi_conn)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


def test_a_connection_handed_back_a_moment_ago_is_not_pinged(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    pings = _count_pings(engine)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []


def test_an_idle_connection_is_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    pings = _count_pings(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert pings == [1]


def test_a_dropped_idle_connection_is_replaced_before_use(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    # The server drops the pooled connection (as a restart or an idle timeout would).
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    killer = engine.dialect.dbapi.connect(url, autocommit=True)  # type: ignore[union-attr]
    try:
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        killer.close()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid


def test_a_new_connection_is_used_as_connected(engine: Engine) -> None:
    # A connect listener that reads something leaves the new connection in a transaction;
    # pinging it then (autocommit cannot change mid-transaction) would discard every new one.
    pids: list[int] = []

    @event.listens_for(engine, "connect")
    def _pid(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.append(cur.fetchone()[0])

    engine.dispose()
    pings = _count_pings(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == pids[-1]
    assert (len(pids), pings) == (1, [])
