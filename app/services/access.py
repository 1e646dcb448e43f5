"""Who may see and change what, decided on the server from the verified user.

- Everyone in a workspace sees its public objectives.
- Private objectives are visible to their owner, the lead of their team (or of a team above
  it) and OKR admins only.
- A KR may be checked in on or edited by its owner, its objective's owner, that team's lead
  (or a lead above) and admins; an objective by its owner, the lead and admins.
- An objective is created in, or moved into, a team only by a member of that team, its lead
  (or a lead above) or an admin: it counts in that team's score and digest. Aligning to
  another team's objective needs none of that.
- ``/okr report`` posts to a channel only for a lead of a team whose channel it is (or a
  lead above that team) and admins.
- At the end of a cycle a KR is self-scored by its owner (the objective's owner when the KR
  has none). Final scores are set by the lead of the objective's team or of any team above it,
  or by an admin; the one *asked* for it is the nearest lead who is not the KR's own scorer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import ObjectiveView, Visibility
from app.models import KeyResult, Objective, Person, Team, TeamMember
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


def placeable_team_ids(*, session: Session, workspace_id: int,
                       actor: Principal) -> set[int] | None:
    """Teams the actor may put objectives in: those they belong to or lead (and the teams
    below those); None for an admin, who may use any team."""
    if actor.is_admin:
        return None
    member = set(session.scalars(select(TeamMember.team_id).where(
        TeamMember.workspace_id == workspace_id, TeamMember.person_id == actor.id)))
    return member | led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)


def may_place_in_team(*, session: Session, workspace_id: int, actor: Principal,
                      team_id: int | None) -> bool:
    """Whether the actor may create an objective in, or move one into, this team."""
    if team_id is None:
        return True
    allowed = placeable_team_ids(session=session, workspace_id=workspace_id, actor=actor)
    return allowed is None or team_id in allowed


def may_post_to_channel(*, session: Session, workspace_id: int, actor: Principal,
                        channel_id: str) -> bool:
    """Admins, and leads of a team whose channel this is (or of a team above it)."""
    if actor.is_admin:
        return True
    teams = session.scalars(select(Team.id).where(Team.workspace_id == workspace_id,
                                                  Team.channel_id == channel_id)).all()
    led = led_team_ids(session=session, workspace_id=workspace_id, person_id=actor.id)
    return any(t in led for t in teams)


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


# End of cycle: who scores and who reviews.

def self_scorer_id(kr: KeyResult) -> int | None:
    return kr.owner_id if kr.owner_id is not None else kr.objective.owner_id


def is_admin(person: Person | None, admin_slack_ids: Collection[str] = ()) -> bool:
    return person is not None and (person.is_admin or person.slack_id in admin_slack_ids)


def _team_leads(session: Session, workspace_id: int) -> dict[int, tuple[int | None, int | None]]:
    """team id -> (lead id, parent team id)."""
    return {
        tid: (lead, parent)
        for tid, lead, parent in session.execute(
            select(Team.id, Team.lead_id, Team.parent_id).where(Team.workspace_id == workspace_id)
        )
    }


def lead_chain(
    teams: dict[int, tuple[int | None, int | None]], team_id: int | None
) -> tuple[int, ...]:
    """Leads from a team up through its parents, nearest first, each once."""
    chain: list[int] = []
    seen: set[int] = set()
    while team_id is not None and team_id in teams and team_id not in seen:
        seen.add(team_id)
        lead, parent = teams[team_id]
        if lead is not None and lead not in chain:
            chain.append(lead)
        team_id = parent
    return tuple(chain)


def leads_by_objective(
    session: Session, workspace_id: int, objective_ids: Iterable[int]
) -> dict[int, tuple[int, ...]]:
    """objective id -> the leads who may set its KRs' final scores, nearest first."""
    ids = list(objective_ids)
    if not ids:
        return {}
    teams = _team_leads(session, workspace_id)
    return {
        oid: lead_chain(teams, team_id)
        for oid, team_id in session.execute(
            select(Objective.id, Objective.team_id).where(
                Objective.workspace_id == workspace_id, Objective.id.in_(ids))
        )
    }


def reviewer(chain: Sequence[int], scorer: int | None) -> int | None:
    """The lead asked for a final score: the nearest one who is not the KR's own scorer."""
    return next((lead for lead in chain if lead != scorer), chain[0] if chain else None)


def leads_anything(session: Session, workspace_id: int, person: Person) -> bool:
    return session.scalar(
        select(Team.id).where(Team.workspace_id == workspace_id, Team.lead_id == person.id)
        .limit(1)
    ) is not None
