"""The read model's queries: one cycle's rows, read with a handful of set-based statements.

Column-only selects run as Core statements on the session's connection, read as plain rows
(:mod:`~app.services.okrs.rows`): the ORM's per-row processing adds nothing here and costs
about a second per 100,000 rows. Core statements do not autoflush, so pending changes are
flushed first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, exists, false, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.util import AliasedClass

from app.domain import IssueFact, KRType
from app.domain.records import record
from app.models import (
    Checkin,
    Cycle,
    IssueLink,
    KeyResult,
    Objective,
)
from app.services.okrs import people_rows
from app.services.okrs.rows import prefetch, rows_many, rows_of


class ObjRow(NamedTuple):
    """An objective row as the read model reads it.

    Plain tuples: SQLAlchemy ``Row`` attribute access costs about a microsecond, and the
    report reads dozens of attributes per row (100,000 KRs took seconds just for that).
    """

    id: int
    key: str
    title: str
    team_id: int | None
    owner_id: int | None
    aligned_objective_id: int | None
    aligned_kr_id: int | None
    visibility: str
    commitment: str
    rollup_mode: str
    is_development: bool
    is_draft: bool


class KRRow(NamedTuple):
    id: int
    key: str
    objective_id: int
    title: str
    kr_type: str
    start_value: float | None
    target_value: float | None
    current_value: float | None
    manual_score: float | None
    unit: str | None
    weight: float
    owner_id: int | None
    declared_status: str | None
    state: str
    last_checkin_at: datetime | None
    due_date: date | None
    targets: list[dict[str, Any]] | None
    position: int


_KR_ORDER = itemgetter(*(KRRow._fields.index(name)
                          for name in ("objective_id", "position", "id")))


@record(frozen=True, slots=True)
class LastCheckins:
    score: float | None = None
    previous_score: float | None = None
    note: str | None = None
    blockers: str | None = None


@dataclass(frozen=True, slots=True)
class CycleRows:
    """Everything the read model reads about one cycle, as plain values."""

    objectives: list[ObjRow]
    key_results: list[KRRow]
    # KR id -> its linked issues (only for ``issues`` KRs).
    issues: dict[int, list[IssueFact]] = field(default_factory=dict)
    # Person id -> (Slack id, name); team id -> (key, name).
    people: dict[int, tuple[str, str]] = field(default_factory=dict)
    teams: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Person id -> the period of their check-in cadence in days (absent: weekly).
    cadence_days: dict[int, int] = field(default_factory=dict)


def cycle_rows(session: Session, workspace_id: int, cycle: Cycle) -> CycleRows:
    """The objectives of a cycle in position order, its KRs grouped by objective and in
    position order within each, with what scoring and views need
    (the latest check-ins come from :func:`latest_checkins`)."""
    session.flush()
    in_cycle = _in_cycle(workspace_id, cycle)
    obj_rows, kr_rows, issue_rows, *people = rows_many(session.connection(), [
        _objectives_query(workspace_id, cycle), _key_results_query(workspace_id, in_cycle),
        _issues_query(workspace_id, in_cycle), *people_rows.queries(workspace_id)])
    person_rows, team_rows, org_rows, schedule_rows = people
    new = tuple.__new__  # KRRow._make without the classmethod call, per KR
    # Each objective's KRs in position order. Sorted here rather than by the database: only
    # the order within an objective matters, and rows that come back in the order they were
    # written (an import's) are already in it, where the server sorts 100,000 wide rows in
    # about 80 ms.
    kr_rows.sort(key=_KR_ORDER)
    # Each statement reads its own snapshot: a KR written with its objective between the
    # two reads would come without it. It waits for the next read.
    objectives = [new(ObjRow, row) for row in obj_rows]
    known = {o.id for o in objectives}
    krs = [kr for kr in (new(KRRow, row) for row in kr_rows) if kr.objective_id in known]
    issues: dict[int, list[IssueFact]] = defaultdict(list)
    for kr_id, closed, weight in issue_rows:
        issues[kr_id].append(IssueFact(bool(closed), float(weight)))
    return CycleRows(
        objectives=objectives, key_results=krs, issues=issues,
        people=people_rows.people(person_rows), teams=people_rows.teams(team_rows),
        cadence_days=people_rows.cadence_days(person_rows, org_rows, schedule_rows))


@contextmanager
def latest_checkins(session: Session, workspace_id: int,
                    cycle: Cycle) -> Iterator[Callable[[], dict[int, LastCheckins]]]:
    """The latest check-ins of the cycle's KRs (see :func:`last_checkins`), asked for when
    the block starts and read when the function it gives is called: on PostgreSQL the server
    works them out while the caller scores the cycle. Only pure work belongs in the block."""
    session.flush()
    query = _last_checkins_query(select(KeyResult.id).where(
        KeyResult.workspace_id == workspace_id, _in_cycle(workspace_id, cycle)))
    with prefetch(session.connection(), [query]) as fetch:
        yield lambda: _last_by_kr(fetch()[0], None)


def _in_cycle(workspace_id: int, cycle: Cycle) -> ColumnElement[bool]:
    return KeyResult.objective_id.in_(select(Objective.id).where(
        Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id))


def _objectives_query(workspace_id: int, cycle: Cycle) -> Select[Any]:
    return (select(
            Objective.id, Objective.key, Objective.title, Objective.team_id, Objective.owner_id,
            Objective.aligned_objective_id, Objective.aligned_kr_id, Objective.visibility,
            Objective.commitment, Objective.rollup_mode, Objective.is_development,
            Objective.is_draft,
        )
        .where(Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id)
        .order_by(Objective.position, Objective.id)
    )


def _key_results_query(workspace_id: int, in_cycle: ColumnElement[bool]) -> Select[Any]:
    return (select(
            KeyResult.id, KeyResult.key, KeyResult.objective_id, KeyResult.title,
            KeyResult.kr_type, KeyResult.start_value, KeyResult.target_value,
            KeyResult.current_value, KeyResult.manual_score, KeyResult.unit,
            KeyResult.weight, KeyResult.owner_id, KeyResult.declared_status,
            KeyResult.state, KeyResult.last_checkin_at, KeyResult.due_date,
            KeyResult.targets, KeyResult.position,
        )
        .where(KeyResult.workspace_id == workspace_id, in_cycle)
    )


def _issues_query(workspace_id: int, in_cycle: ColumnElement[bool]) -> Select[Any]:
    """The linked issues that count towards the cycle's ``issues`` KRs."""
    return select(IssueLink.kr_id, IssueLink.closed, IssueLink.weight).where(
        IssueLink.workspace_id == workspace_id,
        IssueLink.state != "deleted",  # a deleted item leaves the denominator
        IssueLink.left_at.is_(None),  # so does one that left the KR's saved search
        IssueLink.kr_id.in_(select(KeyResult.id).where(
            KeyResult.workspace_id == workspace_id, in_cycle,
            KeyResult.kr_type == KRType.ISSUES.value)),
    )


def last_checkins(session: Session, kr_ids: list[int],
                  kr_query: Select[tuple[int]] | None = None) -> dict[int, LastCheckins]:
    """The latest two check-ins in force per KR, with one windowed query.

    Entries a correction superseded, and undo rows, are left out: an undone check-in leaves
    the trend and the last note to the entry before it. ``kr_query`` selects the same KR ids
    in SQL; with it the database filters by a subquery instead of an IN list of every id (slow
    to build and parse at tens of thousands).
    """
    if not kr_ids:
        return {}
    session.flush()  # a Core statement below: make pending check-ins visible to it
    rows = rows_of(session.connection(), _last_checkins_query(
        kr_query if kr_query is not None else kr_ids))
    return _last_by_kr(rows, set(kr_ids))


def in_force(entry: type[Checkin] | AliasedClass[Checkin]) -> tuple[ColumnElement[bool], ...]:
    """The conditions for a history row ``entry`` (``Checkin`` or an alias of it) to count
    among a KR's latest check-ins: not an undo row, not superseded by a correction."""
    later = aliased(Checkin)
    return entry.undone == false(), ~exists().where(later.supersedes_id == entry.id)


def newest_first(entry: type[Checkin] | AliasedClass[Checkin]) -> tuple[ColumnElement[Any], ...]:
    """The order of a KR's history, latest first (ties by id)."""
    return entry.at.desc(), entry.id.desc()


def _last_checkins_query(krs: Select[tuple[int]] | list[int]) -> Select[Any]:
    """One row per KR with check-ins: the latest one's score, note and blockers, and the
    score of the one before it (NULL when there is none)."""
    order = newest_first(Checkin)
    rn = func.row_number().over(partition_by=Checkin.kr_id, order_by=order).label("rn")
    before = func.lead(Checkin.score).over(partition_by=Checkin.kr_id,
                                           order_by=order).label("previous")
    inner = select(Checkin.kr_id, Checkin.score, before, Checkin.note, Checkin.blockers,
                   rn).where(Checkin.kr_id.in_(krs), *in_force(Checkin)).subquery()
    return select(inner.c.kr_id, inner.c.score, inner.c.previous, inner.c.note,
                  inner.c.blockers).where(inner.c.rn == 1)


def _last_by_kr(rows: list[tuple[Any, ...]], wanted: set[int] | None) -> dict[int, LastCheckins]:
    return {kr_id: LastCheckins(score, previous, note, blockers)
            for kr_id, score, previous, note, blockers in rows
            if wanted is None or kr_id in wanted}
