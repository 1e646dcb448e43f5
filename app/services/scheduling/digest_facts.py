"""What a team's digest compares against, and what people wrote since the last one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import DigestNote
from app.models import Checkin, Cycle, DigestSnapshot, KeyResult, Objective, Person, Team, Workspace
from app.services.okrs import adjustments
from app.services.scheduling.schedules import zone


@dataclass(frozen=True, slots=True)
class DigestFacts:
    """What a team's digest compares against: the last digest's snapshot, and what people
    wrote (check-in notes and blockers, mid-cycle KR adjustments) since then."""

    previous: dict[str, Any] | None
    previous_at: datetime | None
    previous_date: date | None  # in the org's zone
    notes: list[DigestNote]


def digest_facts(*, session: Session, ws: Workspace, team: Team, cycle: Cycle,
                 exclude_delivery_id: int | None = None) -> DigestFacts:
    query = select(DigestSnapshot).where(
        DigestSnapshot.workspace_id == ws.id, DigestSnapshot.team_id == team.id,
        DigestSnapshot.cycle_id == cycle.id)
    if exclude_delivery_id is not None:
        query = query.where(DigestSnapshot.delivery_id != exclude_delivery_id)
    previous = session.scalars(query.order_by(DigestSnapshot.taken_at.desc(),
                                              DigestSnapshot.id.desc())).first()
    since = previous.taken_at if previous else None
    notes = (
        select(KeyResult.key, KeyResult.title, Person.slack_id, Checkin.note, Checkin.blockers)
        .join(KeyResult, KeyResult.id == Checkin.kr_id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .outerjoin(Person, Person.id == Checkin.author_id)
        .where(Checkin.workspace_id == ws.id, Objective.team_id == team.id,
               Objective.cycle_id == cycle.id, Objective.visibility == "public",
               (Checkin.note.isnot(None)) | (Checkin.blockers.isnot(None)))
        .order_by(Checkin.at.desc(), Checkin.id.desc()).limit(30))
    if since is not None:
        notes = notes.where(Checkin.at > since)
    found = [DigestNote(*row) for row in reversed(session.execute(notes).all())]
    found += adjustment_notes(session, ws.id, team.id, cycle, since)
    return DigestFacts(previous.data if previous else None, since,
                       since.astimezone(zone(ws.timezone)).date() if since else None, found)


def adjustment_notes(session: Session, workspace_id: int, team_id: int, cycle: Cycle,
                     since: datetime | None) -> list[DigestNote]:
    """Mid-cycle target and weight changes on the team's public KRs since the last digest,
    as digest notes (the old value and the reason included)."""
    return [DigestNote(r.kr_key, r.kr_title, r.author_slack_id, r.describe(), None)
            for r in adjustments.revisions(session=session, workspace_id=workspace_id,
                                           cycle=cycle, since=since, team_id=team_id,
                                           public_only=True)]
