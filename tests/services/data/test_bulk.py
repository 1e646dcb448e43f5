"""Bulk writes: rows from a list or built as they are written, the same rows either way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, Workspace
from app.services.data.bulk import bulk_insert, reserve_ids

COLUMNS = ("workspace_id", "at", "actor_id", "actor_label", "action", "subject_type",
           "subject_key", "before", "after")


def _workspace(session: Session) -> int:
    ws = Workspace(name="acme", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(ws)
    session.flush()
    return ws.id


def _rows(ws: int, n: int, built: list[int]) -> Iterator[dict[str, Any]]:
    for i in range(n):
        built.append(i)
        yield {"workspace_id": ws, "at": datetime(2026, 3, 2, tzinfo=UTC), "actor_id": None,
               "actor_label": "import", "action": "import.create", "subject_type": "kr",
               "subject_key": f"k{i}", "before": None,
               "after": {"title": f"KR {i}", "unit": None} if i % 2 else None}


def _stored(session: Session) -> list[tuple[Any, ...]]:
    return [(a.subject_key, a.before, a.after) for a in session.scalars(
        select(AuditEntry).order_by(AuditEntry.subject_key))]


def test_rows_built_as_they_are_written_are_the_rows_of_a_list(session: Session) -> None:
    ws = _workspace(session)
    built: list[int] = []
    bulk_insert(session, AuditEntry, _rows(ws, 5, built), columns=COLUMNS)
    assert built == [0, 1, 2, 3, 4]
    lazy = _stored(session)
    session.execute(text("DELETE FROM audit_log"))
    bulk_insert(session, AuditEntry, list(_rows(ws, 5, [])))
    assert _stored(session) == lazy
    assert lazy[0] == ("k0", None, None)  # SQL NULL, not JSON null
    assert lazy[1] == ("k1", None, {"title": "KR 1", "unit": None})
    assert session.scalar(text("SELECT count(*) FROM audit_log WHERE after IS NULL")) == 3


def test_reserved_ids_are_new_and_ascending_on_postgresql(session: Session) -> None:
    ws = _workspace(session)
    ids = reserve_ids(session, Workspace, 3)
    if session.get_bind().dialect.name != "postgresql":
        assert ids is None  # SQLite numbers rows as they go in
        return
    assert ids is not None and ids == sorted(ids) and len(set(ids)) == 3 and min(ids) > ws
    assert reserve_ids(session, Workspace, 0) == []
