"""What the end-of-cycle forms show a person: their KRs to self-score, their team's KRs to
review, and the objectives they may reflect on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Unpack

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CyclePhase, KRView, ObjectiveView, Visibility
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember
from app.services import access
from app.services.errors import NotAllowed, NotFound, OkrError
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.okrs.mine import today_for
from app.services.review import ledger, rounds
from app.services.review.ledger import KRScores
from app.services.tenancy.actors import person_row


@dataclass(frozen=True, slots=True)
class FormItem:
    kr: KRView
    objective: ObjectiveView
    scores: KRScores | None


def review_cycle(*, session: Session, workspace_id: int, name: str | None = None) -> Cycle:
    """The cycle being scored: the named one, else the latest one in review."""
    if name:
        cycle = cycles.by_name(session=session, workspace_id=workspace_id, name=name)
        if cycle.phase != CyclePhase.REVIEW.value:
            raise NotAllowed(f"scoring for {cycle.name} is not open (the cycle is {cycle.phase})")
        return cycle
    found = session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id,
                            Cycle.phase == CyclePhase.REVIEW.value)
        .order_by(Cycle.end_date.desc(), Cycle.id.desc()).limit(1)
    ).first()
    if found is None:
        raise NotFound("no cycle is in review right now: an admin opens scoring with "
                       "`/okr cycle review`")
    return found


def _items(read: okrs.ReadArgs) -> tuple[list[FormItem], dict[str, int]]:
    session, workspace_id, cycle = read["session"], read["workspace_id"], read["cycle"]
    report = okrs.cycle_report(**read, include_drafts=False)
    scores = ledger.scores(session=session, workspace_id=workspace_id, cycle=cycle)
    items = [FormItem(kr=kr, objective=o, scores=scores.get(kr.key))
             for o in report.objectives for kr in o.key_results]
    ids = dict(session.execute(
        select(Objective.key, Objective.id).where(Objective.workspace_id == workspace_id,
                                                  Objective.cycle_id == cycle.id)).tuples().all())
    return items, ids


def self_items(*, person: Person, **read: Unpack[okrs.ReadArgs]) -> list[FormItem]:
    """The KRs this person self-scores (theirs, or of their objectives when a KR has no owner)."""
    items, _ = _items(read)
    mine = [i for i in items if (i.kr.owner_slack_id or i.objective.owner_slack_id)
            == person.slack_id]
    # Still-unscored first, so a long list that does not fit one modal moves on.
    return sorted(mine, key=lambda i: i.scores is not None and i.scores.self_score is not None)


def lead_items(*, person: Person, as_admin: bool = False,
               **read: Unpack[okrs.ReadArgs]) -> list[FormItem]:
    """The KRs this person is asked to finalise; failing that, any they may finalise (an
    admin: any KR still without a final score)."""
    session, workspace_id = read["session"], read["workspace_id"]
    items, ids = _items(read)
    chains = access.leads_by_objective(session, workspace_id, ids.values())
    scorer_ids = dict(session.execute(
        select(Person.slack_id, Person.id).where(Person.workspace_id == workspace_id)
    ).tuples().all())

    def chain(item: FormItem) -> tuple[int, ...]:
        return chains.get(ids[item.objective.key], ())

    def scorer(item: FormItem) -> int | None:
        sid = item.kr.owner_slack_id or item.objective.owner_slack_id
        return scorer_ids.get(sid) if sid else None

    def unfinished_first(found: list[FormItem]) -> list[FormItem]:
        return sorted(found, key=lambda i: i.scores is not None and i.scores.final is not None)

    asked = [i for i in items if access.reviewer(chain(i), scorer(i)) == person.id]
    if asked:
        return unfinished_first(asked)
    allowed = [i for i in items if person.id in chain(i)]
    if allowed:
        return unfinished_first(allowed)
    if as_admin:
        return [i for i in items if i.scores is None or i.scores.final is None]
    return []


def reflect_choices(*, session: Session, workspace_id: int, cycle: Cycle,
                    person: Person) -> list[tuple[str, str]]:
    """``(key, title)`` of the objectives this person may reflect on, in plan order."""
    teams = select(TeamMember.team_id).where(TeamMember.person_id == person.id)
    led = select(Team.id).where(Team.workspace_id == workspace_id, Team.lead_id == person.id)
    owns_kr = select(KeyResult.objective_id).where(KeyResult.workspace_id == workspace_id,
                                                   KeyResult.owner_id == person.id)
    rows = session.execute(
        select(Objective.key, Objective.title).where(
            Objective.workspace_id == workspace_id, Objective.cycle_id == cycle.id,
            Objective.is_draft.is_(False),
            or_(Objective.owner_id == person.id, Objective.id.in_(owns_kr),
                (Objective.visibility != Visibility.PRIVATE.value)
                & (Objective.team_id.in_(teams) | Objective.team_id.in_(led))))
        .order_by(Objective.position, Objective.id)
    ).tuples()
    return list(rows)


# --- the forms as one call each, by person id and cycle name ---------------------------------


@dataclass(frozen=True, slots=True)
class ScoringForm:
    """What a scoring modal shows: the cycle, its KRs to score and (self-scoring) the deadline."""

    cycle_name: str
    items: list[FormItem]
    deadline: date | None = None


@dataclass(frozen=True, slots=True)
class ReflectForm:
    cycle_name: str
    choices: list[tuple[str, str]]  # (objective key, title)


def reflection_cycle(*, session: Session, workspace_id: int, now: datetime,
                     name: str | None) -> Cycle:
    """The named cycle, else the one in review, else the current one."""
    if name:
        return cycles.by_name(session=session, workspace_id=workspace_id, name=name)
    try:
        return review_cycle(session=session, workspace_id=workspace_id)
    except OkrError:
        found = cycles.current(session=session, workspace_id=workspace_id,
                               today=today_for(session, workspace_id, now))
        if found is None:
            raise
        return found


def self_form(*, session: Session, workspace_id: int, person_id: int, now: datetime,
              settings: ScoringSettings, cycle_name: str | None) -> ScoringForm:
    cycle = review_cycle(session=session, workspace_id=workspace_id, name=cycle_name)
    person = person_row(session=session, workspace_id=workspace_id, person_id=person_id)
    items = self_items(session=session, workspace_id=workspace_id, cycle=cycle, person=person,
                       today=today_for(session, workspace_id, now), now=now, settings=settings)
    rnd = rounds.review_round(session=session, workspace_id=workspace_id, cycle=cycle) \
        if items else None
    return ScoringForm(cycle.name, items, rnd.deadline if rnd is not None else None)


def lead_form(*, session: Session, workspace_id: int, person_id: int, now: datetime,
              settings: ScoringSettings, cycle_name: str | None,
              as_admin: bool = False) -> ScoringForm:
    cycle = review_cycle(session=session, workspace_id=workspace_id, name=cycle_name)
    person = person_row(session=session, workspace_id=workspace_id, person_id=person_id)
    items = lead_items(session=session, workspace_id=workspace_id, cycle=cycle, person=person,
                       today=today_for(session, workspace_id, now), now=now, settings=settings,
                       as_admin=as_admin)
    return ScoringForm(cycle.name, items)


def reflect_form(*, session: Session, workspace_id: int, person_id: int, now: datetime,
                 cycle_name: str | None) -> ReflectForm:
    cycle = reflection_cycle(session=session, workspace_id=workspace_id, now=now,
                             name=cycle_name)
    person = person_row(session=session, workspace_id=workspace_id, person_id=person_id)
    return ReflectForm(cycle.name, reflect_choices(session=session, workspace_id=workspace_id,
                                                   cycle=cycle, person=person))


def leads_a_team(*, session: Session, workspace_id: int, person_id: int) -> bool:
    person = session.get(Person, person_id)
    return person is not None and access.leads_anything(session, workspace_id, person)
