"""Alignment: which objective or KR an objective sits under, and the picker's options.

Values are ``o:<objective key>`` or ``k:<kr key>``; only what the person may see is offered
or accepted.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Cycle, KeyResult, Objective
from app.services import access
from app.services.access import Principal
from app.services.errors import InvalidValue


def resolve(session: Session, workspace_id: int, actor: Principal,
                      align: str | None) -> tuple[int | None, int | None]:
    """``o:key`` / ``k:key`` -> (objective id, kr id); only objectives the actor may see."""
    if not align:
        return None, None
    kind, _, key = align.partition(":")
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    if kind == "o":
        obj = session.scalars(select(Objective).where(
            Objective.workspace_id == workspace_id, Objective.key == key)).first()
        if obj is not None and access.can_view_objective(actor, obj, led):
            return obj.id, None
    elif kind == "k":
        kr = session.scalars(select(KeyResult).where(
            KeyResult.workspace_id == workspace_id, KeyResult.key == key)).first()
        if kr is not None and access.can_view_objective(actor, kr.objective, led):
            return None, kr.id
    raise InvalidValue("pick an objective or key result from the list", field="align")


def options(*, session: Session, workspace_id: int, actor: Principal, query: str,
                      limit: int = 100) -> list[tuple[str, str]]:
    """(value, label) pairs for the alignment picker: visible objectives and their KRs whose
    key or title contains ``query``, newest cycles first, at most ``limit``."""
    q = (query or "").strip().lower()
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    like = f"%{q}%"
    objs = session.scalars(
        select(Objective).join(Cycle, Cycle.id == Objective.cycle_id)
        .where(Objective.workspace_id == workspace_id,
               func.lower(Objective.title).like(like) | func.lower(Objective.key).like(like))
        .order_by(Cycle.start_date.desc(), Objective.position, Objective.id).limit(limit * 2)
    ).all()
    out: list[tuple[str, str]] = []
    for o in objs:
        if access.can_view_objective(actor, o, led):
            out.append((f"o:{o.key}", o.title))
        if len(out) >= limit:
            return out
    krs = session.execute(
        select(KeyResult, Objective).join(Objective, Objective.id == KeyResult.objective_id)
        .join(Cycle, Cycle.id == Objective.cycle_id)
        .where(KeyResult.workspace_id == workspace_id,
               func.lower(KeyResult.title).like(like) | func.lower(KeyResult.key).like(like))
        .order_by(Cycle.start_date.desc(), KeyResult.position, KeyResult.id).limit(limit * 2)
    ).all()
    for kr, o in krs:
        if access.can_view_objective(actor, o, led):
            out.append((f"k:{kr.key}", f"KR: {kr.title}"))
        if len(out) >= limit:
            break
    return out
