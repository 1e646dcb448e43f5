"""Engine, session factory and the unit of work.

SQLite is the embedded default; PostgreSQL is used when ``DATABASE_URL`` points at it
(``postgresql://`` URLs are served by psycopg 3).

SQLite allows one writer at a time. A plain (deferred) ``BEGIN`` takes its snapshot at the
first read and fails at once with ``database is locked`` when it later writes after another
writer committed: the busy timeout cannot help it. So every SQLite transaction here starts
with ``BEGIN IMMEDIATE``: it takes the write lock up front and waits up to the busy timeout
for it, and concurrent writers queue instead of failing. A connection that only reads opts
out with the ``DEFERRED`` execution option (``/healthz`` does): in WAL mode it reads a
snapshot and never waits for a writer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

# Execution option for a connection that only reads: on SQLite its transaction begins deferred.
DEFERRED = "okr_deferred"
# A pooled PostgreSQL connection idle this long is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_S = 1.0
_RETURNED_AT = "okr_returned_at"
# How long a SQLite writer waits for the one write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15000


class DatabaseUrlError(ValueError):
    """``DATABASE_URL`` is not a URL of a database this install can open."""


def normalise_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _create(url: str, **kwargs: Any) -> Engine:
    """create_engine, with a URL it cannot use (unparsable, a bad port, a driver that is not
    installed) as a DatabaseUrlError that names it without its password."""
    try:
        return create_engine(url, **kwargs)
    except (ArgumentError, ValueError, ImportError) as exc:
        shown = make_url_safe(url)
        raise DatabaseUrlError(f"DATABASE_URL {shown} cannot be used: {exc}") from exc


def make_url_safe(url: str) -> str:
    """The URL for a message: anything between ``://`` and ``@`` (user, password) hidden."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = _create(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
                # WAL's recommended setting: commits stay atomic and survive a crash of the
                # process; only a power cut may lose the last ones. Saves an fsync per commit.
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()
            # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs (a RELEASE
            # commits the outer work): let SQLAlchemy emit BEGIN itself (SQLAlchemy's
            # documented recipe for pysqlite).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers wait for each other (see the module docstring); readers opt out.
            deferred = conn.get_execution_options().get(DEFERRED, False)
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    ping_idle = "pool_pre_ping" not in kwargs and "poolclass" not in kwargs
    engine = _create(url, **kwargs)
    if ping_idle:
        _ping_when_idle(engine)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _utc_session)
    return engine


def _utc_session(dbapi_conn: Any, _record: Any) -> None:
    """Every PostgreSQL session in UTC, whatever the server's ``TimeZone``: the driver then
    hands back instants as aware UTC datetimes (``datetime.UTC``), which is what the models'
    ``UTCDateTime`` makes of them anyway, and reads them faster. Nothing here computes
    dates in SQL, so the setting changes no result; it only makes them independent of how
    the server is configured. (SQLAlchemy's recipe for per-connection settings.)"""
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.autocommit = autocommit


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, only for connections that sat in the pool ``PING_AFTER_IDLE_S``
    or longer: a dropped connection (a restart, a failover, an idle timeout) is replaced
    before use, as with ``pool_pre_ping``, while one handed back a moment ago is used at once
    instead of costing a round trip per request."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.pop(_RETURNED_AT, None)
        # One that was never handed back has just connected: not pinged (nor is it by
        # pool_pre_ping, and a connect listener may have left a transaction open on it).
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (SQLAlchemy's
            # pessimistic disconnect handling).
            raise DisconnectionError() from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commits when the block ends, rolls back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> bool:
    try:
        with engine.connect().execution_options(**{DEFERRED: True}) as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
