"""What the end-of-cycle forms show a person: their KRs to self-score, their team's KRs to
review, and the objectives they may reflect on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.domain import CyclePhase, KRView, ObjectiveView, Visibility
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember
from app.services import access
from app.services.errors import NotAllowed, NotFound
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.review import ledger
from app.services.review.ledger import KRScores


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
