"""The read model: a cycle's objectives and key results, scored, with status and trend.

One place builds it (a handful of set-based queries, then pure scoring), and everything that
shows OKRs uses it: the CLI tree, exports, Slack views, digests and reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

import scoring
from app.config import ScoringSettings
from app.domain import (
    Commitment,
    CycleView,
    IssueFact,
    KRFacts,
    KRState,
    KRType,
    KRView,
    ObjectiveFacts,
    ObjectiveView,
    RollupMode,
    ScoreCard,
    TrafficLight,
    Visibility,
)
from app.models import Checkin, Cycle, IssueLink, KeyResult, Objective, Person, Team
from app.services.okrs import cycles as cycles_service

# A KR with no check-in for this long is stale (two weekly cadences).
STALE_AFTER = timedelta(days=14)
_SELF_MOVING = (KRType.ISSUES.value, KRType.CHILDREN.value)
# Enum lookups by stored value: calling the enum class costs ~3 us, too much per KR at 100k.
_KR_TYPE = {m.value: m for m in KRType}
_LIGHT = {m.value: m for m in TrafficLight}
_KR_STATE = {m.value: m for m in KRState}


class _ObjRow(NamedTuple):
    """An objective row as cycle_report reads it.

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


class _KRRow(NamedTuple):
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


@dataclass(frozen=True, slots=True)
class CycleReport:
    cycle: CycleView
    objectives: list[ObjectiveView]
    scores: ScoreCard
    team_scores: dict[str, float] = field(default_factory=dict)
    company_score: float | None = None

    def objective(self, key: str) -> ObjectiveView | None:
        return next((o for o in self.objectives if o.key == key), None)

    def key_result(self, key: str) -> KRView | None:
        for o in self.objectives:
            for kr in o.key_results:
                if kr.key == key:
                    return kr
        return None


@dataclass(frozen=True, slots=True)
class _LastCheckins:
    score: float | None = None
    previous_score: float | None = None
    note: str | None = None
    blockers: str | None = None


def _last_checkins(session: Session, kr_ids: list[int],
                   kr_query: Select[tuple[int]] | None = None) -> dict[int, _LastCheckins]:
    """The latest two check-ins per KR, with one windowed query.

    ``kr_query`` selects the same KR ids in SQL; with it the database filters by a subquery
    instead of an IN list of every id (slow to build and parse at tens of thousands).
    """
    if not kr_ids:
        return {}
    rn = (
        func.row_number()
        .over(partition_by=Checkin.kr_id, order_by=(Checkin.at.desc(), Checkin.id.desc()))
        .label("rn")
    )
    inner = select(Checkin.kr_id, Checkin.score, Checkin.note, Checkin.blockers, rn).where(
        Checkin.kr_id.in_(kr_query if kr_query is not None else kr_ids)
    ).subquery()
    session.flush()  # a Core statement below: make pending check-ins visible to it
    rows = session.connection().execute(
        select(inner.c.kr_id, inner.c.score, inner.c.note, inner.c.blockers, inner.c.rn).where(
            inner.c.rn <= 2
        )
    ).all()
    out: dict[int, _LastCheckins] = {}
    wanted = set(kr_ids)
    for kr_id, score, note, blockers, n in rows:
        if kr_id not in wanted:
            continue
        prev = out.get(kr_id, _LastCheckins())
        if n == 1:
            out[kr_id] = _LastCheckins(score, prev.previous_score, note, blockers)
        else:
            out[kr_id] = _LastCheckins(prev.score, score, prev.note, prev.blockers)
    return out


def cycle_report(
    *,
    session: Session,
    workspace_id: int,
    cycle: Cycle,
    today: date,
    now: datetime,
    settings: ScoringSettings,
    include_private: bool = True,
    include_drafts: bool = True,
) -> CycleReport:
    """Score a whole cycle. ``today`` is the organisation's local date (for pace)."""
    # Column-only selects run as Core statements on the session's connection: the ORM's
    # per-row processing adds nothing here and costs about a second per 100,000 rows.
    # Core statements do not autoflush, so flush pending changes first.
    session.flush()
    db = session.connection()
    objs = [_ObjRow._make(row) for row in db.execute(
        select(
            Objective.id, Objective.key, Objective.title, Objective.team_id, Objective.owner_id,
            Objective.aligned_objective_id, Objective.aligned_kr_id, Objective.visibility,
            Objective.commitment, Objective.rollup_mode, Objective.is_development,
            Objective.is_draft,
        )
        .where(Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id)
        .order_by(Objective.position, Objective.id)
    )]
    obj_ids = [o.id for o in objs]
    in_cycle = KeyResult.objective_id.in_(
        select(Objective.id).where(
            Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id
        )
    )
    krs = (
        [_KRRow._make(row) for row in db.execute(
            select(
                KeyResult.id, KeyResult.key, KeyResult.objective_id, KeyResult.title,
                KeyResult.kr_type, KeyResult.start_value, KeyResult.target_value,
                KeyResult.current_value, KeyResult.manual_score, KeyResult.unit,
                KeyResult.weight, KeyResult.owner_id, KeyResult.declared_status,
                KeyResult.state, KeyResult.last_checkin_at,
            )
            .where(KeyResult.workspace_id == workspace_id, in_cycle)
            .order_by(KeyResult.position, KeyResult.id)
        )]
        if obj_ids
        else []
    )
    kr_ids = [k.id for k in krs]
    issues: dict[int, list[IssueFact]] = defaultdict(list)
    if any(k.kr_type == KRType.ISSUES.value for k in krs):
        for kr_id, closed, weight in db.execute(
            select(IssueLink.kr_id, IssueLink.closed, IssueLink.weight).where(
                IssueLink.workspace_id == workspace_id,
                IssueLink.kr_id.in_(select(KeyResult.id).where(
                    KeyResult.workspace_id == workspace_id, in_cycle,
                    KeyResult.kr_type == KRType.ISSUES.value)),
            )
        ):
            issues[kr_id].append(IssueFact(closed=bool(closed), weight=float(weight)))
    last = _last_checkins(session, kr_ids, select(KeyResult.id).where(
        KeyResult.workspace_id == workspace_id, in_cycle))
    people = {
        pid: (sid, name)
        for pid, sid, name in session.execute(
            select(Person.id, Person.slack_id, Person.name)
            .where(Person.workspace_id == workspace_id)
        )
    }
    teams = {
        tid: (key, name)
        for tid, key, name in session.execute(
            select(Team.id, Team.key, Team.name).where(Team.workspace_id == workspace_id)
        )
    }

    obj_key = {o.id: o.key for o in objs}
    kr_key = {k.id: k.key for k in krs}
    kr_obj = {k.id: k.objective_id for k in krs}
    children_of_obj: dict[int, list[str]] = defaultdict(list)
    children_of_kr: dict[int, list[str]] = defaultdict(list)
    for o in objs:
        if o.aligned_kr_id is not None and o.aligned_kr_id in kr_key:
            children_of_kr[o.aligned_kr_id].append(o.key)
        elif o.aligned_objective_id is not None and o.aligned_objective_id in obj_key:
            children_of_obj[o.aligned_objective_id].append(o.key)
    # Objectives aligned to one of an objective's KRs are its children too.
    for kr_id, kids in children_of_kr.items():
        children_of_obj[kr_obj[kr_id]].extend(kids)

    kr_facts: dict[int, list[KRFacts]] = defaultdict(list)
    for k in krs:
        kr_facts[k.objective_id].append(
            KRFacts(
                id=k.key, kr_type=_KR_TYPE[k.kr_type], start=k.start_value,
                target=k.target_value,
                current=k.current_value, manual_score=k.manual_score, weight=k.weight,
                issues=tuple(issues.get(k.id, ())), children=tuple(children_of_kr.get(k.id, ())),
                declared_status=_LIGHT[k.declared_status] if k.declared_status else None,
                state=_KR_STATE[k.state],
            )
        )
    facts = [
        ObjectiveFacts(
            id=o.key, key_results=tuple(kr_facts.get(o.id, ())),
            children=tuple(children_of_obj.get(o.id, ())), rollup_mode=RollupMode(o.rollup_mode),
        )
        for o in objs
    ]
    card = scoring.rollup(facts)
    cview = cycles_service.view(cycle, today)
    window = cycles_service.window(cycle)
    expected = scoring.expected_progress(window, today)
    cview = CycleView(
        name=cview.name, start=cview.start, end=cview.end, phase=cview.phase, day=cview.day,
        total_days=cview.total_days, expected=expected,
    )

    kr_views: dict[int, list[KRView]] = defaultdict(list)
    # Loop invariants, hoisted: this loop runs once per KR (100,000 in the benchmark).
    active = KRState.ACTIVE.value
    yellow_gap, red_gap = settings.yellow_gap, settings.red_gap
    never_checked_in_is_stale = (today - cycle.start_date).days >= STALE_AFTER.days
    no_checkins = _LastCheckins()
    for k in krs:
        score = card.key_results.get(k.key, 0.0)
        suggested = scoring.suggest_status(score, expected, yellow_gap=yellow_gap,
                                           red_gap=red_gap)
        declared = _LIGHT[k.declared_status] if k.declared_status else None
        owner = people.get(k.owner_id) if k.owner_id else None
        lc = last.get(k.id, no_checkins)
        # Issues and children KRs move by themselves: nobody owes them a check-in.
        stale = k.state == active and k.kr_type not in _SELF_MOVING and (
            (k.last_checkin_at is None and never_checked_in_is_stale)
            or (k.last_checkin_at is not None and now - k.last_checkin_at >= STALE_AFTER)
        )
        kr_views[k.objective_id].append(
            KRView(
                key=k.key, title=k.title, kr_type=_KR_TYPE[k.kr_type],
                objective_key=obj_key[k.objective_id],
                owner_slack_id=owner[0] if owner else None, owner_name=owner[1] if owner else None,
                start=k.start_value, target=k.target_value, current=k.current_value, unit=k.unit,
                weight=k.weight, score=score, progress=card.progress.get(k.key, score),
                status=declared or suggested, suggested_status=suggested,
                declared_status=declared, previous_score=lc.previous_score,
                state=_KR_STATE[k.state], last_checkin_at=k.last_checkin_at, last_note=lc.note,
                last_blockers=lc.blockers,
                mismatch=scoring.status_mismatch(declared, score, expected,
                                                 gap=settings.mismatch_gap)
                if declared else None,
                stale=stale,
            )
        )

    depth = _depths(objs, kr_obj)
    views: list[ObjectiveView] = []
    for o in objs:
        if not include_private and o.visibility == Visibility.PRIVATE.value:
            continue
        if not include_drafts and o.is_draft:
            continue
        krv = tuple(kr_views.get(o.id, ()))
        score = card.objectives.get(o.key, 0.0)
        status = scoring.objective_status([kv.status for kv in krv if kv.state == KRState.ACTIVE]) \
            if any(kv.state == KRState.ACTIVE for kv in krv) else scoring.suggest_status(
                score, expected, yellow_gap=settings.yellow_gap, red_gap=settings.red_gap)
        owner = people.get(o.owner_id) if o.owner_id else None
        team = teams.get(o.team_id) if o.team_id else None
        views.append(
            ObjectiveView(
                key=o.key, title=o.title, cycle=cycle.name,
                team_key=team[0] if team else None, team_name=team[1] if team else None,
                owner_slack_id=owner[0] if owner else None, owner_name=owner[1] if owner else None,
                score=score, status=status, visibility=Visibility(o.visibility),
                commitment=Commitment(o.commitment), key_results=krv,
                aligned_to=obj_key.get(o.aligned_objective_id) if o.aligned_objective_id
                else (obj_key.get(kr_obj[o.aligned_kr_id]) if o.aligned_kr_id in kr_obj else None),
                aligned_to_kr=kr_key.get(o.aligned_kr_id) if o.aligned_kr_id else None,
                depth=depth.get(o.id, 0), is_development=o.is_development, is_draft=o.is_draft,
                rollup_mode=RollupMode(o.rollup_mode),
            )
        )
    team_objs: dict[str, list[float]] = defaultdict(list)
    for v in views:
        if v.team_key:
            team_objs[v.team_key].append(v.score)
    team_scores = {t: sum(s) / len(s) for t, s in team_objs.items() if s}
    tops = [v.score for v in views if v.aligned_to is None]
    return CycleReport(
        cycle=cview, objectives=tree_order(views), scores=card, team_scores=team_scores,
        company_score=sum(tops) / len(tops) if tops else None,
    )


def _depths(objs: Iterable[Any], kr_obj: dict[int, int]) -> dict[int, int]:
    """Alignment depth of each objective (0 at the top); loops stop where they close."""
    parent: dict[int, int | None] = {}
    for o in objs:
        if o.aligned_objective_id is not None:
            parent[o.id] = o.aligned_objective_id
        elif o.aligned_kr_id is not None:
            parent[o.id] = kr_obj.get(o.aligned_kr_id)
        else:
            parent[o.id] = None
    depth: dict[int, int] = {}
    for oid in parent:
        seen = {oid}
        d = 0
        cur = parent.get(oid)
        while cur is not None and cur in parent and cur not in seen:
            seen.add(cur)
            d += 1
            cur = parent.get(cur)
        depth[oid] = d
    return depth


def tree_order(views: list[ObjectiveView]) -> list[ObjectiveView]:
    """Depth-first: each objective followed by the objectives aligned to it."""
    by_parent: dict[str | None, list[ObjectiveView]] = defaultdict(list)
    keys = {v.key for v in views}
    for v in views:
        parent = v.aligned_to if v.aligned_to in keys and v.aligned_to != v.key else None
        by_parent[parent].append(v)
    out: list[ObjectiveView] = []
    seen: set[str] = set()
    stack = list(reversed(by_parent.get(None, [])))
    while stack:
        v = stack.pop()
        if v.key in seen:
            continue
        seen.add(v.key)
        out.append(v)
        stack.extend(reversed(by_parent.get(v.key, [])))
    # Anything left sits in an alignment loop: list it rather than lose it.
    out.extend(v for v in views if v.key not in seen)
    return out


def objective_by_key(*, session: Session, workspace_id: int, key: str) -> Objective | None:
    return session.scalars(
        select(Objective).where(Objective.workspace_id == workspace_id, Objective.key == key)
    ).first()


def kr_by_key(*, session: Session, workspace_id: int, key: str) -> KeyResult | None:
    return session.scalars(
        select(KeyResult).where(KeyResult.workspace_id == workspace_id, KeyResult.key == key)
    ).first()
