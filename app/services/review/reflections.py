"""Reflections: per person and objective, what worked, what did not, what to carry forward.

Append-only like scores: a second reflection on the same objective adds a row, and the latest
one per (person, objective) is the one shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CyclePhase, Visibility
from app.models import Cycle, KeyResult, Objective, Person, Reflection, TeamMember
from app.services import access, audit
from app.services.errors import InvalidValue, NotAllowed, NotFound

MAX_TEXT = 3000
FIELDS = ("worked", "did_not_work", "carry_forward")


@dataclass(frozen=True, slots=True)
class ReflectionView:
    person_name: str
    person_slack_id: str
    objective_key: str | None
    objective_title: str | None
    private: bool
    worked: str | None
    did_not_work: str | None
    carry_forward: str | None
    at: datetime


def _clean(value: str | None, name: str) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidValue(f"keep it under {MAX_TEXT} characters", field=name)
    return text or None


def may_reflect(session: Session, objective: Objective, person: Person) -> bool:
    """The objective's owner, its KR owners, its team's members and leads; only the owner
    (and KR owners) for a private objective."""
    if person.id == objective.owner_id:
        return True
    kr_owner = session.scalar(
        select(KeyResult.id).where(KeyResult.objective_id == objective.id,
                                   KeyResult.owner_id == person.id).limit(1)
    )
    if kr_owner is not None:
        return True
    if objective.visibility == Visibility.PRIVATE.value or objective.team_id is None:
        return False
    member = session.scalar(
        select(TeamMember.person_id).where(TeamMember.team_id == objective.team_id,
                                           TeamMember.person_id == person.id)
    )
    chain = access.leads_by_objective(session, objective.workspace_id, [objective.id])
    return member is not None or person.id in chain.get(objective.id, ())


def record(
    *,
    session: Session,
    workspace_id: int,
    cycle: Cycle,
    person: Person,
    now: datetime,
    objective_key: str | None = None,
    worked: str | None = None,
    did_not_work: str | None = None,
    carry_forward: str | None = None,
) -> Reflection:
    """Add a reflection on the cycle as a whole (no objective) or on one objective."""
    if cycle.workspace_id != workspace_id:
        raise NotFound("unknown cycle")
    if cycle.phase == CyclePhase.PLANNING.value:
        raise NotAllowed(f"{cycle.name} has not started: reflect once there is something to "
                         "look back on")
    texts = {name: _clean(value, name) for name, value in
             zip(FIELDS, (worked, did_not_work, carry_forward), strict=True)}
    if not any(texts.values()):
        raise InvalidValue("write at least one of what worked, what did not, what to carry "
                           "forward", field="worked")
    objective = None
    if objective_key:
        objective = session.scalars(
            select(Objective).where(Objective.workspace_id == workspace_id,
                                    Objective.key == objective_key,
                                    Objective.cycle_id == cycle.id)
        ).first()
        if objective is None:
            raise InvalidValue(f"no objective {objective_key!r} in {cycle.name}",
                               field="objective")
        if not may_reflect(session, objective, person):
            raise NotAllowed(f"you are not part of {objective.key}")
    row = Reflection(workspace_id=workspace_id, cycle_id=cycle.id, person_id=person.id,
                     objective_id=objective.id if objective else None, at=now, **texts)
    session.add(row)
    audit.record(session=session, workspace_id=workspace_id, actor_id=person.id,
                 actor_label=f"slack:{person.slack_id}", action="reflection",
                 subject_type="objective" if objective else "cycle",
                 subject_key=objective.key if objective else cycle.name, now=now,
                 after={name: bool(v) for name, v in texts.items()})
    session.flush()
    return row


def latest(
    *, session: Session, workspace_id: int, cycle: Cycle, include_private: bool = True
) -> list[ReflectionView]:
    """The latest reflection of each person on each objective (and on the cycle), in order
    of writing."""
    rows = session.execute(
        select(Reflection, Person.name, Person.slack_id, Objective.key, Objective.title,
               Objective.visibility)
        .join(Person, Person.id == Reflection.person_id)
        .outerjoin(Objective, Objective.id == Reflection.objective_id)
        .where(Reflection.workspace_id == workspace_id, Reflection.cycle_id == cycle.id)
        .order_by(Reflection.at, Reflection.id)
    ).all()
    by_key: dict[tuple[int, int | None], ReflectionView] = {}
    for ref, name, slack_id, okey, otitle, visibility in rows:
        private = visibility == Visibility.PRIVATE.value
        if private and not include_private:
            continue
        by_key.pop((ref.person_id, ref.objective_id), None)
        by_key[(ref.person_id, ref.objective_id)] = ReflectionView(
            person_name=name, person_slack_id=slack_id, objective_key=okey,
            objective_title=otitle, private=private, worked=ref.worked,
            did_not_work=ref.did_not_work, carry_forward=ref.carry_forward, at=ref.at,
        )
    return list(by_key.values())
