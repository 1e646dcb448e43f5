"""``okr cycle next``: open the next cycle and carry unfinished objectives into it as drafts.

The next cycle comes from the fiscal calendar (the quarter starting the day after the source
cycle ends); an existing cycle with that name or start date is reused. Carried objectives are
drafts (``is_draft``, ``carried_from_id``) for their owners to confirm. Running it again
copies nothing twice.

What is carried: committed objectives that were not achieved (score below the "achieved"
band), aspirational ones below the "strong" band, and any objective a reflection names
something to carry forward for. Scores are final, else self, else computed. Of a carried
objective, the key results not yet achieved are copied (all of them if every one was), each
starting from where the old one stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import fiscal as calendar
from app.config import ScoringSettings
from app.domain import Commitment, CyclePhase, KRType, ObjectiveView
from app.models import Cycle, KeyResult, Objective, Workspace
from app.services import audit
from app.services.errors import NotFound
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.review import ledger, reflections, retro
from app.services.review.ledger import KRScores

_EPS = 1e-9


@dataclass
class NextCycle:
    source: Cycle
    cycle: Cycle
    created: bool
    copied: list[tuple[str, str]] = field(default_factory=list)  # (old key, new key)
    already: list[str] = field(default_factory=list)  # carried by an earlier run


def default_source(*, session: Session, workspace_id: int, today: date) -> Cycle:
    """The latest cycle in review or closed; else the cycle containing today.

    Reviewed cycles come first so that, once the next cycle has started, running the command
    again still means "after the cycle we just finished" rather than "after the new one".
    """
    done = session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id,
                            Cycle.phase.in_([CyclePhase.REVIEW.value, CyclePhase.CLOSED.value]))
        .order_by(Cycle.end_date.desc(), Cycle.id.desc()).limit(1)
    ).first()
    if done is not None:
        return done
    found = cycles.current(session=session, workspace_id=workspace_id, today=today)
    if found is None:
        raise NotFound("there is no cycle yet: import one first (okr import)")
    return found


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def should_carry(objective: ObjectiveView, score: float, carry_noted: bool,
                 settings: ScoringSettings) -> bool:
    if carry_noted:
        return True
    bar = settings.grade_achieved if objective.commitment == Commitment.COMMITTED \
        else settings.grade_strong
    return score < bar - _EPS


def _next_window(source: Cycle, start_month: int) -> tuple[str, date, date]:
    win = calendar.next_quarter(cycles.window(source), start_month)
    return win.name, win.start, win.end


def _target_cycle(session: Session, ws: Workspace, source: Cycle, now: datetime,
                  actor_label: str) -> tuple[Cycle, bool]:
    name, start, end = _next_window(source, ws.fiscal_year_start_month or 1)
    existing = session.scalars(
        select(Cycle).where(Cycle.workspace_id == ws.id,
                            (Cycle.name == name) | (Cycle.start_date == start))
        .order_by(Cycle.id).limit(1)
    ).first()
    if existing is not None:
        return existing, False
    cycle = Cycle(workspace_id=ws.id, name=name, start_date=start, end_date=end,
                  phase=CyclePhase.PLANNING.value)
    session.add(cycle)
    session.flush()
    audit.record(session=session, workspace_id=ws.id, actor_label=actor_label,
                 action="cycle.create", subject_type="cycle", subject_key=name, now=now,
                 after={"start": start.isoformat(), "end": end.isoformat(), "from": source.name})
    return cycle, True


def _free_key(taken: set[str], base: str) -> str:
    key, n = base[:100], 2
    while key in taken:
        suffix = f"-{n}"
        key, n = base[: 100 - len(suffix)] + suffix, n + 1
    taken.add(key)
    return key


def _carried_key(old: str, source: Cycle, target: Cycle) -> str:
    base = old.removesuffix(f"-{slug(source.name)}")
    return f"{base}-{slug(target.name)}"


def carry_forward(
    *,
    session: Session,
    workspace_id: int,
    today: date,
    now: datetime,
    settings: ScoringSettings,
    actor_label: str,
    actor_id: int | None = None,
    source: Cycle | None = None,
) -> NextCycle:
    ws = session.get(Workspace, workspace_id)
    assert ws is not None
    source = source or default_source(session=session, workspace_id=workspace_id, today=today)
    target, created = _target_cycle(session, ws, source, now, actor_label)
    result = NextCycle(source=source, cycle=target, created=created)
    if target.id == source.id:
        return result
    report = okrs.cycle_report(session=session, workspace_id=workspace_id, cycle=source,
                               today=today, now=now, settings=settings, include_drafts=False)
    scores = ledger.scores(session=session, workspace_id=workspace_id, cycle=source)
    noted = {r.objective_key for r in reflections.latest(
        session=session, workspace_id=workspace_id, cycle=source) if r.carry_forward}
    done = set(session.scalars(
        select(Objective.carried_from_id).where(
            Objective.workspace_id == workspace_id, Objective.cycle_id == target.id,
            Objective.carried_from_id.isnot(None))
    ))
    rows = {o.key: o for o in session.scalars(
        select(Objective).where(Objective.workspace_id == workspace_id,
                                Objective.cycle_id == source.id))}
    obj_keys = set(session.scalars(select(Objective.key).where(
        Objective.workspace_id == workspace_id)))
    kr_keys = set(session.scalars(select(KeyResult.key).where(
        KeyResult.workspace_id == workspace_id)))
    copies: dict[str, Objective] = {}
    for view in report.objectives:
        old = rows[view.key]
        if old.id in done:
            result.already.append(view.key)
            continue
        score = retro.objective_final(view, scores) if view.key_results else view.score
        if not should_carry(view, score, view.key in noted, settings):
            continue
        new = _copy(session, old, view, scores, target, now, settings,
                    _free_key(obj_keys, _carried_key(old.key, source, target)), kr_keys,
                    source)
        copies[old.key] = new
        result.copied.append((old.key, new.key))
    _realign(copies, rows, session, target)
    for old_key, new_key in result.copied:
        audit.record(session=session, workspace_id=workspace_id, actor_id=actor_id,
                     actor_label=actor_label, action="objective.carry", subject_type="objective",
                     subject_key=new_key, now=now, after={"from": old_key, "cycle": target.name})
    session.flush()
    return result


def _copy(session: Session, old: Objective, view: ObjectiveView, scores: dict[str, KRScores],
          target: Cycle, now: datetime, settings: ScoringSettings, key: str,
          kr_keys: set[str], source: Cycle) -> Objective:
    new = Objective(
        workspace_id=old.workspace_id, key=key, cycle_id=target.id, team_id=old.team_id,
        owner_id=old.owner_id, title=old.title, description=old.description,
        visibility=old.visibility, commitment=old.commitment,
        is_development=old.is_development, rollup_mode=old.rollup_mode, is_draft=True,
        carried_from_id=old.id, position=old.position, created_at=now, updated_at=now,
    )
    session.add(new)
    session.flush()
    by_key = {kr.key: kr for kr in old.key_results}
    open_krs = [kr for kr in view.key_results
                if retro.used_score(kr, scores.get(kr.key)) < settings.grade_achieved - _EPS]
    for pos, kr in enumerate(open_krs or list(view.key_results)):
        src = by_key[kr.key]
        moving = KRType(src.kr_type) in (KRType.INCREASE, KRType.DECREASE)
        session.add(KeyResult(
            workspace_id=old.workspace_id, key=_free_key(kr_keys, _carried_key(
                src.key, source, target)),
            objective_id=new.id, title=src.title, kr_type=src.kr_type,
            start_value=src.current_value if moving and src.current_value is not None
            else src.start_value,
            target_value=src.target_value, unit=src.unit, weight=src.weight,
            owner_id=src.owner_id, position=pos, created_at=now, updated_at=now,
        ))
    return new


def _realign(copies: dict[str, Objective], rows: dict[str, Objective], session: Session,
             target: Cycle) -> None:
    """A carried objective stays aligned to its parent's carried copy, when there is one."""
    by_id = {o.id: o for o in rows.values()}
    carried_ids = _carried_by_source(session, target, by_id)
    for old_key, new in copies.items():
        parent = by_id.get(rows[old_key].aligned_objective_id or -1)
        if parent is not None and parent.id in carried_ids:
            new.aligned_objective_id = carried_ids[parent.id]


def _carried_by_source(session: Session, target: Cycle, sources: dict[int, Objective]
                       ) -> dict[int, int]:
    session.flush()
    ids: Iterable[tuple[int | None, int]] = session.execute(
        select(Objective.carried_from_id, Objective.id).where(
            Objective.workspace_id == target.workspace_id, Objective.cycle_id == target.id,
            Objective.carried_from_id.isnot(None))
    ).tuples()
    return {src: new for src, new in ids if src is not None and src in sources}
