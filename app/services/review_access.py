"""Who may score what at the end of a cycle.

A KR is self-scored by its owner (the objective's owner when the KR has none). Final scores
are set by the lead of the objective's team or of any team above it, or by an admin; the one
*asked* for it is the nearest lead who is not the KR's own scorer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import KeyResult, Objective, Person, Team


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
