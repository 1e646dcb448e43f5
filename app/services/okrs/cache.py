"""A per-process cache of scored cycle reports, checked against the database on every use.

Scoring a cycle is the expensive read behind ``/okr mine``, the Home tab and the check-in
modal. A report is reused only while a cheap stamp of the rows it was built from is
unchanged: per table, the row count and the sum of PostgreSQL's ``xmin`` (every insert or
update gives a row a newer transaction id, so any write by any process changes the stamp).
Reports also expire with the hour (staleness flags depend on the clock). SQLite has no
``xmin``: there, nothing is cached.

A check-in written by this process tells the cache what it changed (:meth:`ReportCache.
note_write`: which KR rows, and by how much their ``xmin`` sum moved). When the stamp has
moved by exactly the changes noted since a report was built, and by nothing else, the report
is brought up to date from the rows it was built from, with only those KRs read again
(:mod:`~app.services.okrs.rescore`), instead of reading the whole cycle again.

Small per-workspace facts a request needs before the report (the organisation's time zone,
its cycles, the teams someone leads) are kept under the stamp of the tables they come from
(:meth:`ReportCache.memo`), so that a cached ``/okr mine`` costs one query instead of five,
and a check-in (which changes key results only) does not make them read again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Generic, TypeVar, cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.okrs.report import CycleReport

T = TypeVar("T")
B = TypeVar("B")

_TABLES = ("key_results", "objectives", "issue_links", "people", "teams", "cycles")
# The stamp's parts, in order: one per table, then the workspace row's own.
PARTS = (*_TABLES, "workspaces")
_KRS = PARTS.index("key_results")


def stamp_part(table: str, workspace: str) -> str:
    """The SQL of one table's part of the stamp; ``workspace``: the workspace id's parameter."""
    return (f"(SELECT count(*) || '/' || coalesce(sum((xmin::text)::bigint), 0) FROM {table} "
            f"WHERE workspace_id = {workspace})")


_STAMP = "SELECT " + ", ".join(
    [stamp_part(t, ":w") for t in _TABLES]
    + ["(SELECT xmin::text FROM workspaces WHERE id = :w)"])
# Check-ins noted per workspace (the ones a stamp may have moved by since a report).
_WRITES_KEPT = 16


def data_stamp(session: Session, workspace_id: int) -> str | None:
    """A value that changes whenever a row a report reads changes; None where unsupported."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(text(_STAMP), {"w": workspace_id}).one()
    return "|".join(str(v) for v in row)


def stamp_of(stamp: str, tables: Iterable[str]) -> str:
    """The parts of ``stamp`` that ``tables`` (names in :data:`PARTS`) contribute."""
    parts = stamp.split("|")
    return "|".join(parts[PARTS.index(t)] for t in tables)


@dataclass(frozen=True, slots=True)
class KRWrite:
    """One committed statement's change to the stamp: it updated only the ``key_results``
    rows ``kr_ids`` (and appended to tables outside the stamp), which took the KRs' part of
    the stamp from ``before`` (in the snapshot it wrote from) to ``after``."""

    before: str
    after: str
    kr_ids: frozenset[int]

    NOTHING: ClassVar[KRWrite]  # nothing written


KRWrite.NOTHING = KRWrite("", "", frozenset())


def krs_moved(old: str, new: str, writes: Iterable[KRWrite]) -> frozenset[int] | None:
    """The KRs that changed from stamp ``old`` to ``new`` when the change is exactly a
    chain of ``writes`` (each starting where the one before ended, in the order noted);
    None when it is anything else."""
    before, after = old.split("|"), new.split("|")
    if len(before) != len(after) or any(
            a != b for i, (a, b) in enumerate(zip(before, after, strict=True)) if i != _KRS):
        return None
    at, goal = before[_KRS], after[_KRS]
    changed: set[int] = set()
    for w in writes:
        if w.before == at and w.kr_ids:
            at = w.after
            changed |= w.kr_ids
            if at == goal:
                return frozenset(changed)
    return None


@dataclass(frozen=True, slots=True)
class _Entry(Generic[B]):
    stamp: str
    report: CycleReport
    basis: B | None  # what the report was built from (to bring it up to date), if kept


class ReportCache:
    def __init__(self, max_entries: int = 32) -> None:
        self._entries: OrderedDict[tuple[object, ...], _Entry[object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._memos: OrderedDict[tuple[object, ...], tuple[str, object]] = OrderedDict()
        self._writes: dict[int, deque[KRWrite]] = {}
        self.hits = 0
        self.misses = 0
        self.patched = 0

    def memo(self, workspace_id: int, what: tuple[object, ...], stamp: str,
             build: Callable[[], T], tables: tuple[str, ...] = PARTS) -> T:
        """``build()``, reused while the ``tables`` it reads keep their part of the
        workspace's stamp ``stamp``. Values must be plain (no ORM objects: they outlive the
        session)."""
        key = (workspace_id, *what)
        mine = stamp_of(stamp, tables)
        with self._lock:
            found = self._memos.get(key)
            if found is not None and found[0] == mine:
                self._memos.move_to_end(key)
                return cast(T, found[1])
        value = build()
        with self._lock:
            self._memos[key] = (mine, value)
            self._memos.move_to_end(key)
            while len(self._memos) > 16 * self._max:
                self._memos.popitem(last=False)
        return value

    def note_write(self, workspace_id: int, write: KRWrite | None) -> None:
        """A committed check-in's change to the stamp; ``None``: one that cannot be told
        (a report may be stale without the stamp showing it): the workspace's reports go."""
        with self._lock:
            if write is None:
                self._writes.pop(workspace_id, None)
                for key in [k for k in self._entries if k[0] == workspace_id]:
                    del self._entries[key]
                return
            if write.kr_ids:
                self._writes.setdefault(workspace_id, deque(maxlen=_WRITES_KEPT)).append(write)

    def tracks(self, workspace_id: int) -> bool:
        """Whether a check-in's :class:`KRWrite` would be of use: a report of the workspace
        is kept with what it was built from."""
        with self._lock:
            return any(k[0] == workspace_id and e.basis is not None
                       for k, e in self._entries.items())

    def _kept(self, workspace_id: int, cycle_id: int) -> _Entry[object] | None:
        """(Holding the lock.) The newest entry of this cycle kept with its rows."""
        for key in reversed(self._entries):
            entry = self._entries[key]
            if key[:2] == (workspace_id, cycle_id) and entry.basis is not None:
                return entry
        return None

    def get(self, session: Session, workspace_id: int, cycle_id: int, today: date,
            now: datetime, build: Callable[[], tuple[CycleReport, B | None]],
            stamp: str | None = None,
            patch: Callable[[B, frozenset[int]], tuple[CycleReport, B] | None] | None = None,
            ) -> CycleReport:
        """The cached report, else ``build()`` (the report and what it was built from);
        ``stamp``: the caller's :func:`data_stamp` of this transaction, when it has one
        already. ``patch(basis, kr_ids)``: the report brought up to date after changes to
        those KRs only (None: it could not be)."""
        stamp = stamp or data_stamp(session, workspace_id)
        if stamp is None:
            return build()[0]
        key = (workspace_id, cycle_id, today, now.replace(minute=0, second=0, microsecond=0))
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found.stamp == stamp:
                self._entries.move_to_end(key)
                self.hits += 1
                return found.report
            if found is None or found.basis is None:
                # An earlier hour's or day's rows serve as well: only the scoring is dated.
                found = self._kept(workspace_id, cycle_id)
            moved = None
            if found is not None and found.basis is not None and patch is not None:
                moved = frozenset() if found.stamp == stamp else krs_moved(
                    found.stamp, stamp, list(self._writes.get(workspace_id, ())))
        fresh = patch(cast(B, found.basis), moved) \
            if found is not None and moved is not None and patch is not None else None
        report, basis = fresh if fresh is not None else build()
        with self._lock:
            if fresh is not None:
                self.patched += 1
            else:
                self.misses += 1
            self._entries[key] = _Entry(stamp, report, basis)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return report
