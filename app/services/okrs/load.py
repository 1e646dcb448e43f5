"""The read model's queries: one cycle's rows, read with a handful of set-based statements.

Column-only selects run as Core statements on the session's connection, read as plain rows
(:mod:`~app.services.okrs.rows`): the ORM's per-row processing adds nothing here and costs
about a second per 100,000 rows. Core statements do not autoflush, so pending changes are
flushed first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, exists, false, func, select
from sqlalchemy.orm import Session, aliased

from app.calendar import cadence
from app.calendar.cadence import ScheduleError
from app.domain import IssueFact, KRType
from app.domain.records import record
from app.models import (
    Checkin,
    Cycle,
    IssueLink,
    KeyResult,
    Objective,
    Person,
    Team,
    TeamMember,
    Workspace,
)
from app.services.okrs.rows import rows_many, rows_of

# A schedule's period in days, for "two of the owner's cadences" (monthly counts as 31).
_PERIOD_DAYS = {**{name: 7 * weeks for name, weeks in cadence.WEEKS.items()}, "monthly": 31}
_KIND_RANK = {"team": 0, "department": 1, "company": 2}


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
    # KR id -> its latest two check-ins.
    last: dict[int, LastCheckins] = field(default_factory=dict)
    # Person id -> (Slack id, name); team id -> (key, name).
    people: dict[int, tuple[str, str]] = field(default_factory=dict)
    teams: dict[int, tuple[str, str]] = field(default_factory=dict)
    # Person id -> the period of their check-in cadence in days (absent: weekly).
    cadence_days: dict[int, int] = field(default_factory=dict)


def cycle_rows(session: Session, workspace_id: int, cycle: Cycle) -> CycleRows:
    """The objectives and KRs of a cycle (in position order), with what scoring and views need."""
    session.flush()
    in_cycle = KeyResult.objective_id.in_(
        select(Objective.id).where(
            Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id
        )
    )
    cycle_krs = select(KeyResult.id).where(KeyResult.workspace_id == workspace_id, in_cycle)
    obj_rows, kr_rows, issue_rows, last_rows = rows_many(session.connection(), [
        _objectives_query(workspace_id, cycle), _key_results_query(workspace_id, in_cycle),
        _issues_query(workspace_id, in_cycle), _last_checkins_query(cycle_krs)])
    krs = [KRRow._make(row) for row in kr_rows]
    issues: dict[int, list[IssueFact]] = defaultdict(list)
    for kr_id, closed, weight in issue_rows:
        issues[kr_id].append(IssueFact(closed=bool(closed), weight=float(weight)))
    return CycleRows(objectives=[ObjRow._make(row) for row in obj_rows], key_results=krs,
                     issues=issues, last=_last_by_kr(last_rows, None),
                     people=_people(session, workspace_id), teams=_teams(session, workspace_id),
                     cadence_days=_cadence_days(session, workspace_id))


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
            KeyResult.targets,
        )
        .where(KeyResult.workspace_id == workspace_id, in_cycle)
        .order_by(KeyResult.position, KeyResult.id)
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


def _people(session: Session, workspace_id: int) -> dict[int, tuple[str, str]]:
    return {
        pid: (sid, name)
        for pid, sid, name in session.execute(
            select(Person.id, Person.slack_id, Person.name)
            .where(Person.workspace_id == workspace_id)
        )
    }


def _teams(session: Session, workspace_id: int) -> dict[int, tuple[str, str]]:
    return {
        tid: (key, name)
        for tid, key, name in session.execute(
            select(Team.id, Team.key, Team.name).where(Team.workspace_id == workspace_id)
        )
    }


def _period(data: Mapping[str, Any] | None) -> int | None:
    if data is None:
        return None
    try:
        return _PERIOD_DAYS.get(cadence.parse(data).cadence)
    except ScheduleError:
        return None  # unreadable: the next level decides, as for prompts


def _cadence_days(session: Session, workspace_id: int) -> dict[int, int]:
    """Each person's check-in period: their own schedule, else their teams' (team before
    department before company), else the organisation's; weekly when none is set."""
    org = _period(session.scalar(select(Workspace.checkin_schedule)
                                 .where(Workspace.id == workspace_id)))
    teams: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pid, kind, sched in session.execute(
        select(TeamMember.person_id, Team.kind, Team.checkin_schedule)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.workspace_id == workspace_id, Team.checkin_schedule.isnot(None))
    ):
        days = _period(sched)
        if days is not None:
            teams[pid].append((_KIND_RANK.get(kind, 0), days))
    out: dict[int, int] = {}
    for pid, own in session.execute(select(Person.id, Person.checkin_schedule)
                                    .where(Person.workspace_id == workspace_id)):
        found = _period(own)
        if found is None and teams.get(pid):
            found = min(teams[pid])[1]
        found = found or org
        if found is not None and found != 7:
            out[pid] = found
    return out


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


def _last_checkins_query(krs: Select[tuple[int]] | list[int]) -> Select[Any]:
    """One row per KR with check-ins: the latest one's score, note and blockers, and the
    score of the one before it (NULL when there is none)."""
    newest_first = (Checkin.at.desc(), Checkin.id.desc())
    rn = func.row_number().over(partition_by=Checkin.kr_id, order_by=newest_first).label("rn")
    before = func.lead(Checkin.score).over(partition_by=Checkin.kr_id,
                                           order_by=newest_first).label("previous")
    later = aliased(Checkin)
    inner = select(Checkin.kr_id, Checkin.score, before, Checkin.note, Checkin.blockers,
                   rn).where(
        Checkin.kr_id.in_(krs),
        Checkin.undone == false(),
        ~exists().where(later.supersedes_id == Checkin.id),
    ).subquery()
    return select(inner.c.kr_id, inner.c.score, inner.c.previous, inner.c.note,
                  inner.c.blockers).where(inner.c.rn == 1)


def _last_by_kr(rows: list[tuple[Any, ...]], wanted: set[int] | None) -> dict[int, LastCheckins]:
    return {kr_id: LastCheckins(score, previous, note, blockers)
            for kr_id, score, previous, note, blockers in rows
            if wanted is None or kr_id in wanted}
