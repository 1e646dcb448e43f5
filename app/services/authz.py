"""Who may see and change what, decided on the server from the verified user.

- Everyone in a workspace sees its public objectives.
- Private objectives are visible to their owner, the lead of their team (or of a team above
  it) and OKR admins only.
- A KR may be checked in on or edited by its owner, its objective's owner, that team's lead
  (or a lead above) and admins; an objective by its owner, the lead and admins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import ObjectiveView, Visibility
from app.models import KeyResult, Objective, Team
from app.services.errors import NotAllowed


class Principal(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def is_admin(self) -> bool: ...


def led_team_ids(*, session: Session, workspace_id: int, person_id: int) -> set[int]:
    """Teams the person leads, and every team below those."""
    rows = session.execute(
        select(Team.id, Team.parent_id, Team.lead_id).where(Team.workspace_id == workspace_id)
    ).all()
    children: dict[int | None, list[int]] = defaultdict(list)
    for tid, parent, _ in rows:
        children[parent].append(tid)
    led = [tid for tid, _, lead in rows if lead == person_id]
    out: set[int] = set()
    while led:
        tid = led.pop()
        if tid in out:
            continue
        out.add(tid)
        led.extend(children.get(tid, ()))
    return out


def led_team_keys(*, session: Session, workspace_id: int, person_id: int) -> set[str]:
    ids = led_team_ids(session=session, workspace_id=workspace_id, person_id=person_id)
    if not ids:
        return set()
    return set(session.scalars(select(Team.key).where(Team.workspace_id == workspace_id,
                                                      Team.id.in_(ids))))


def can_edit_objective(actor: Principal, objective: Objective, led: set[int]) -> bool:
    return (actor.is_admin or objective.owner_id == actor.id
            or (objective.team_id is not None and objective.team_id in led))


def can_edit_kr(actor: Principal, kr: KeyResult, objective: Objective, led: set[int]) -> bool:
    return kr.owner_id == actor.id or can_edit_objective(actor, objective, led)


def can_view_objective(actor: Principal, objective: Objective, led: set[int]) -> bool:
    return objective.visibility != Visibility.PRIVATE.value or can_edit_objective(
        actor, objective, led)


def require_edit_objective(*, session: Session, actor: Principal, objective: Objective) -> None:
    led = led_team_ids(session=session, workspace_id=objective.workspace_id, person_id=actor.id)
    if not can_edit_objective(actor, objective, led):
        raise NotAllowed("only the objective's owner, the team lead or an OKR admin can "
                         "change this objective")


def require_edit_kr(*, session: Session, actor: Principal, kr: KeyResult) -> None:
    led = led_team_ids(session=session, workspace_id=kr.workspace_id, person_id=actor.id)
    if not can_edit_kr(actor, kr, kr.objective, led):
        raise NotAllowed("only the key result's owner, the objective's owner, the team lead "
                         "or an OKR admin can change this key result")


def visible_views(views: Iterable[ObjectiveView], *, slack_id: str, is_admin: bool,
                  led_keys: set[str]) -> list[ObjectiveView]:
    """Drop private objectives the person may not see (read-model flavour of the rule)."""
    return [
        v for v in views
        if v.visibility != Visibility.PRIVATE or is_admin or v.owner_slack_id == slack_id
        or (v.team_key is not None and v.team_key in led_keys)
    ]
