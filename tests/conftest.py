"""Shared fixtures.

``db_engine`` is one migrated database per backend per run; ``session`` wraps each test in a
transaction with savepoints and rolls it back, so tests never see each other's rows.
Tests that need real commits across connections (scheduler concurrency) use ``fresh_engine``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.dbutil import migrated_engine

# Fixtures shared across folders live in tests/fixtures/ and load everywhere.
pytest_plugins = [
    "tests.fixtures.web",
    "tests.fixtures.scheduler",
    "tests.fixtures.slack",
    "tests.fixtures.served",
]

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def db_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with migrated_engine(request.param, tmp_path_factory.mktemp("db")) as engine:
        yield engine


@pytest.fixture()
def session_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory whose sessions all share one outer transaction that is rolled back.

    Code under test may commit: with ``join_transaction_mode="create_savepoint"`` its commits
    release savepoints inside the outer transaction.
    """
    conn = db_engine.connect()
    outer = conn.begin()
    factory = sessionmaker(
        bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield factory
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture()
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture()
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own for one test (parametrize with indirect=True for the backend)."""
    kind = getattr(request, "param", "postgresql")
    with migrated_engine(kind, tmp_path) as engine:
        yield engine


@pytest.fixture()
def now() -> datetime:
    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
