"""A per-process cache of scored cycle reports, checked against the database on every use.

Scoring a cycle is the expensive read behind ``/okr mine``, the Home tab and the check-in
modal. A report is reused only while a cheap stamp of the rows it was built from is
unchanged: per table, the row count and the sum of PostgreSQL's ``xmin`` (every insert or
update gives a row a newer transaction id, so any write by any process changes the stamp).
Reports also expire with the hour (staleness flags depend on the clock). SQLite has no
``xmin``: there, nothing is cached.

Small per-workspace facts a request needs before the report (the organisation's time zone,
its cycles, the teams someone leads) are kept under the same stamp (:meth:`ReportCache.memo`),
so that a cached ``/okr mine`` costs one query instead of five.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar, cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.okrs.report import CycleReport

T = TypeVar("T")

_TABLES = ("key_results", "objectives", "issue_links", "people", "teams", "cycles")
_STAMP = "SELECT " + ", ".join(
    [f"(SELECT count(*) || '/' || coalesce(sum((xmin::text)::bigint), 0) FROM {t} "
     f"WHERE workspace_id = :w)" for t in _TABLES]
    + ["(SELECT xmin::text FROM workspaces WHERE id = :w)"])


def data_stamp(session: Session, workspace_id: int) -> str | None:
    """A value that changes whenever a row a report reads changes; None where unsupported."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(text(_STAMP), {"w": workspace_id}).one()
    return "|".join(str(v) for v in row)


class ReportCache:
    def __init__(self, max_entries: int = 32) -> None:
        self._entries: OrderedDict[tuple[object, ...], tuple[str, CycleReport]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._memos: OrderedDict[tuple[object, ...], tuple[str, object]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def memo(self, workspace_id: int, what: tuple[object, ...], stamp: str,
             build: Callable[[], T]) -> T:
        """``build()``, reused while the workspace's stamp is ``stamp``. Values must be plain
        (no ORM objects: they outlive the session)."""
        key = (workspace_id, *what)
        with self._lock:
            found = self._memos.get(key)
            if found is not None and found[0] == stamp:
                self._memos.move_to_end(key)
                return cast(T, found[1])
        value = build()
        with self._lock:
            self._memos[key] = (stamp, value)
            self._memos.move_to_end(key)
            while len(self._memos) > 16 * self._max:
                self._memos.popitem(last=False)
        return value

    def get(self, session: Session, workspace_id: int, cycle_id: int, today: date,
            now: datetime, build: Callable[[], CycleReport],
            stamp: str | None = None) -> CycleReport:
        """The cached report, else ``build()``; ``stamp``: the caller's :func:`data_stamp`
        of this transaction, when it has one already."""
        stamp = stamp or data_stamp(session, workspace_id)
        if stamp is None:
            return build()
        key = (workspace_id, cycle_id, today, now.replace(minute=0, second=0, microsecond=0))
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == stamp:
                self._entries.move_to_end(key)
                self.hits += 1
                return found[1]
        report = build()
        with self._lock:
            self.misses += 1
            self._entries[key] = (stamp, report)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return report
