"""A cycle's report brought up to date after check-ins, from the rows it was built from.

A check-in changes a few KR rows (their value, status, state and last check-in) and appends
to their history. Reading the whole cycle again for that costs a dozen statements; here only
the changed KRs' rows and their latest two check-ins are read again (two small statements),
put in place of the old ones, and the cycle is scored from those rows exactly as
:func:`~app.services.okrs.report.cycle_report` scores what it reads (the same steps, in the
same order: the result is the same report, see tests/services/okrs/test_rescore.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased

from app.config import ScoringSettings
from app.models import Checkin, Cycle, KeyResult
from app.services.gcpause import paused_gc
from app.services.okrs import load, report
from app.services.okrs.load import CycleRows, KRRow, LastCheckins
from app.services.okrs.report import CycleReport

# Larger cycles keep only their report: holding their rows as well would double the memory.
MAX_KEPT_KRS = 20_000

_KR_COLUMNS = [getattr(KeyResult, name) for name in KRRow._fields]


@dataclass(frozen=True, slots=True)
class Basis:
    """What a cached report was built from: the cycle's rows, each KR's latest check-ins and
    a detached copy of the cycle."""

    rows: CycleRows
    last: dict[int, LastCheckins]
    cycle: Cycle


def _detached(cycle: Cycle) -> Cycle:
    """A copy outside any session (the report outlives the one that read the cycle)."""
    attrs = inspect(Cycle).column_attrs
    return Cycle(**{a.key: getattr(cycle, a.key) for a in attrs})


def build(*, session: Session, workspace_id: int, cycle: Cycle, today: date, now: datetime,
          settings: ScoringSettings) -> tuple[CycleReport, Basis | None]:
    """:func:`~app.services.okrs.report.cycle_report`, with what it was built from."""
    with paused_gc():
        rows = load.cycle_rows(session, workspace_id, cycle)
        copy = _detached(cycle)
        with load.latest_checkins(session, workspace_id, cycle) as latest:
            done = report.scored(rows, copy, today, settings)
            last = latest()
        out = report.assembled(rows, done, last, cycle=copy, today=today, now=now,
                               settings=settings)
    kept = Basis(rows, last, copy) if len(rows.key_results) <= MAX_KEPT_KRS else None
    return out, kept


def report_of(basis: Basis, *, today: date, now: datetime,
              settings: ScoringSettings) -> CycleReport:
    """The scored report of these rows: ``cycle_report``'s steps after its read."""
    rows, cycle = basis.rows, basis.cycle
    return report.assembled(rows, report.scored(rows, cycle, today, settings), basis.last,
                            cycle=cycle, today=today, now=now, settings=settings)


def _changed_query() -> Select[Any]:
    """The KRs ``:ids`` of workspace ``:w`` as the read model reads them, each with its
    latest two check-ins in force (by ``load``'s own rules), in one statement."""
    entry = aliased(Checkin)
    order = load.newest_first(entry)
    recent = (
        select(entry.score, entry.note, entry.blockers,
               func.row_number().over(order_by=order).label("rn"))
        .where(entry.workspace_id == KeyResult.workspace_id, entry.kr_id == KeyResult.id,
               *load.in_force(entry))
        .order_by(*order).limit(2).lateral()
    )
    return (select(*_KR_COLUMNS, recent.c.score, recent.c.note, recent.c.blockers,
                   recent.c.rn)
            .outerjoin(recent, true())
            .where(KeyResult.workspace_id == bindparam("w"),
                   KeyResult.id == any_(bindparam("ids", type_=ARRAY(Integer)))))


_CHANGED = _changed_query()  # built once: compiled once, its cache key computed once
_WIDTH = len(KRRow._fields)


def changed_rows(session: Session, workspace_id: int, basis: Basis,
                 kr_ids: frozenset[int]) -> Basis | None:
    """``basis`` with the rows of ``kr_ids`` (the ones in this cycle) read again; None when
    one of them is gone, has left its objective or moved within it (the cycle must be read
    whole)."""
    rows = basis.rows
    index = {k.id: i for i, k in enumerate(rows.key_results)}
    ids = sorted(i for i in kr_ids if i in index)
    if not ids:
        return basis
    fresh: dict[int, KRRow] = {}
    latest: dict[int, tuple[float | None, str | None, str | None]] = {}
    previous: dict[int, float | None] = {}
    for row in session.execute(_CHANGED, {"w": workspace_id, "ids": ids}):
        kr = fresh.setdefault(row[0], KRRow._make(row[:_WIDTH]))
        score, note, blockers, n = row[_WIDTH:]
        if n == 1:
            latest[kr.id] = (score, note, blockers)
        elif n == 2:
            previous[kr.id] = score
    krs = list(rows.key_results)
    last = dict(basis.last)
    for kr_id in ids:
        new, old = fresh.get(kr_id), krs[index[kr_id]]
        if new is None or (new.objective_id, new.position) != (old.objective_id, old.position):
            return None
        krs[index[kr_id]] = new
        last.pop(kr_id, None)
        if kr_id in latest:
            score, note, blockers = latest[kr_id]
            last[kr_id] = LastCheckins(score, previous.get(kr_id), note, blockers)
    return Basis(replace(rows, key_results=krs), last, basis.cycle)


def patched(*, session: Session, workspace_id: int, basis: Basis, kr_ids: frozenset[int],
            today: date, now: datetime,
            settings: ScoringSettings) -> tuple[CycleReport, Basis] | None:
    """The report after changes to ``kr_ids`` only (None: read the cycle whole instead)."""
    with paused_gc():
        fresh = changed_rows(session, workspace_id, basis, kr_ids)
        if fresh is None:
            return None
        out = report_of(fresh, today=today, now=now, settings=settings)
    return out, fresh
