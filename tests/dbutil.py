"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per run.

PostgreSQL comes from ``OKR_TEST_POSTGRES_URL`` (default: the local server). When it is
unreachable the PostgreSQL tests skip with the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, text

from app.db import make_engine
from app.migrate import upgrade

PG_ADMIN_URL = os.environ.get("OKR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_or_skip() -> str:
    """Return the admin URL, or skip (fail in CI) when PostgreSQL is not reachable."""
    try:
        eng = make_engine(PG_ADMIN_URL, pool_size=1, max_overflow=0)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
    except Exception as exc:
        reason = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"
        if in_ci():
            pytest.fail(f"CI requires PostgreSQL: {reason}", pytrace=False)
        pytest.skip(reason)
    return PG_ADMIN_URL


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards (ours only)."""
    admin_url = postgres_or_skip()
    name = f"okr_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_database(kind: str, tmp_dir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / f'okr-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@contextmanager
def migrated_engine(kind: str, tmp_dir: Path) -> Iterator[Engine]:
    with fresh_database(kind, tmp_dir) as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def recorded_statements(bind: Engine | Connection) -> Iterator[list[str]]:
    """The SQL text of every statement ``bind`` runs inside the block, in order."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)
