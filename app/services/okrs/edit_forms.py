"""What the objective and key result modals start with: the pickers' choices and, for an
edit, the current values (authorization checked here). The Team picker offers the teams the
person may put an objective in (the server checks again on submit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CyclePhase, FormChoices, KREdit, ObjectiveEdit
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember
from app.services import access
from app.services.access import Principal
from app.services.okrs import cycles, editing
from app.services.okrs.facts import phased_targets
from app.services.okrs.mine import today_for


def choices(*, session: Session, workspace_id: int, now: datetime, actor: Principal,
            keep_team: int | None = None) -> FormChoices:
    """Open cycles (all of them when none is open) and the teams the actor may put an
    objective in (plus ``keep_team``, where it already is), the current cycle preselected."""
    all_cycles = session.scalars(select(Cycle).where(Cycle.workspace_id == workspace_id)
                                 .order_by(Cycle.start_date)).all()
    open_cycles = [c for c in all_cycles if c.phase != CyclePhase.CLOSED.value] or list(all_cycles)
    today = today_for(session, workspace_id, now)
    current = cycles.current(session=session, workspace_id=workspace_id, today=today)
    allowed = access.placeable_team_ids(session=session, workspace_id=workspace_id,
                                        actor=actor)
    teams = [t for t in session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                        .order_by(Team.name))
             if allowed is None or t.id in allowed or t.id == keep_team]
    return FormChoices(cycles=tuple((str(c.id), c.name) for c in open_cycles[-100:]),
                       teams=tuple((t.key, t.name) for t in teams[:100]),
                       cycle=str(current.id) if current else None)


def new_objective(*, session: Session, workspace_id: int, actor: Principal,
                  now: datetime) -> FormChoices:
    """The choices of a new objective, with the person's first team preselected."""
    found = choices(session=session, workspace_id=workspace_id, now=now, actor=actor)
    my_team = session.scalar(select(Team.key).join(TeamMember, TeamMember.team_id == Team.id)
                             .where(TeamMember.person_id == actor.id).order_by(Team.id)
                             .limit(1))
    return FormChoices(cycles=found.cycles, teams=found.teams, cycle=found.cycle, team=my_team)


def _slack_id(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    p = session.get(Person, person_id)
    return p.slack_id if p else None


def _align_choice(session: Session, obj: Objective) -> tuple[str, str] | None:
    if obj.aligned_kr_id is not None:
        kr = session.get(KeyResult, obj.aligned_kr_id)
        return (f"k:{kr.key}", f"KR: {kr.title}") if kr else None
    if obj.aligned_objective_id is not None:
        parent = session.get(Objective, obj.aligned_objective_id)
        return (f"o:{parent.key}", parent.title) if parent else None
    return None


def edit(*, session: Session, workspace_id: int, actor: Principal, key: str,
         now: datetime) -> ObjectiveEdit | KREdit:
    """The objective or key result ``key`` as its edit form starts."""
    exists = session.scalars(select(Objective).where(Objective.workspace_id == workspace_id,
                                                     Objective.key == key)).first()
    if exists is not None:
        obj = editing.objective_for_edit(session=session, workspace_id=workspace_id,
                                         actor=actor, key=key)
        found = choices(session=session, workspace_id=workspace_id, now=now, actor=actor,
                        keep_team=obj.team_id)
        team = session.get(Team, obj.team_id) if obj.team_id else None
        return ObjectiveEdit(
            key=obj.key, title=obj.title,
            choices=FormChoices(cycles=found.cycles, teams=found.teams, cycle=str(obj.cycle_id),
                                team=team.key if team else None),
            owner_slack_id=_slack_id(session, obj.owner_id), align=_align_choice(session, obj),
            visibility=obj.visibility, commitment=obj.commitment)
    kr = editing.kr_for_edit(session=session, workspace_id=workspace_id, actor=actor, key=key)
    return KREdit(key=kr.key, objective_title=kr.objective.title, title=kr.title,
                  kr_type=kr.kr_type, start=kr.start_value, target=kr.target_value,
                  unit=kr.unit, weight=kr.weight, owner_slack_id=_slack_id(session, kr.owner_id),
                  state=kr.state, due=kr.due_date,
                  targets=phased_targets(kr.targets) if kr.targets else ())
