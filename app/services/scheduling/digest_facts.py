"""What a team's digest compares against, and what people wrote since the last one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.cadence import localize
from app.domain import DigestNote, Participation
from app.models import Checkin, Cycle, DigestSnapshot, KeyResult, Objective, Person, Team, Workspace
from app.services.okrs import adjustments, cycles
from app.services.scheduling.schedules import zone


@dataclass(frozen=True, slots=True)
class DigestFacts:
    """What a team's digest compares against: the last digest's snapshot, and what people
    wrote (check-in notes and blockers, mid-cycle KR adjustments) since then."""

    previous: dict[str, Any] | None
    previous_at: datetime | None
    previous_date: date | None  # in the org's zone
    notes: list[DigestNote]
    participation: Participation | None = None


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
                       since.astimezone(zone(ws.timezone)).date() if since else None, found,
                       participation(session=session, ws=ws, team=team, cycle=cycle,
                                     since=since))


def participation(*, session: Session, ws: Workspace, team: Team, cycle: Cycle,
                  since: datetime | None) -> Participation | None:
    """How many owners of the team's open public KRs checked in on one of them after
    ``since`` (the last digest; else the cycle's start); None when the team has no such KR.
    Read when the digest is sent, so it is as of then."""
    tz = zone(ws.timezone)
    if since is None:
        since = localize(cycle.start_date, time(0, 0), tz)
    rows = session.execute(
        select(Person.id, Person.slack_id, Person.name, KeyResult.last_checkin_at)
        .join(KeyResult, KeyResult.owner_id == Person.id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.workspace_id == ws.id, Objective.team_id == team.id,
               Objective.cycle_id == cycle.id, Objective.is_draft.is_(False),
               Objective.visibility == "public", KeyResult.state == "active",
               Person.active.is_(True))).all()
    if not rows:
        return None
    owners: dict[int, tuple[str, str]] = {}
    done: set[int] = set()
    for pid, slack_id, name, last in rows:
        owners[pid] = (name, slack_id)
        if last is not None and last > since:
            done.add(pid)
    waiting = tuple(slack for _, slack in sorted(v for k, v in owners.items() if k not in done))
    return Participation(owners=len(owners), checked_in=len(done),
                         waiting=waiting if team.digest_names else (),
                         since=since.astimezone(tz).date(), named=team.digest_names)


def adjustment_notes(session: Session, workspace_id: int, team_id: int, cycle: Cycle,
                     since: datetime | None) -> list[DigestNote]:
    """Mid-cycle target and weight changes on the team's public KRs since the last digest,
    as digest notes (the old value and the reason included)."""
    return [DigestNote(r.kr_key, r.kr_title, r.author_slack_id, r.describe(), None)
            for r in adjustments.revisions(session=session, workspace_id=workspace_id,
                                           cycle=cycle, since=since, team_id=team_id,
                                           public_only=True)]


def last_digest_at(session: Session, ws: Workspace, team: Team, cycle: Cycle) -> datetime | None:
    return session.scalar(select(DigestSnapshot.taken_at).where(
        DigestSnapshot.workspace_id == ws.id, DigestSnapshot.team_id == team.id,
        DigestSnapshot.cycle_id == cycle.id).order_by(DigestSnapshot.taken_at.desc()).limit(1))


def led_participation(*, session: Session, workspace_id: int, person_id: int,
                      now: datetime) -> dict[str, Participation]:
    """For each team the person leads (by name): its participation since its last digest in
    the current cycle, as the next digest would show it."""
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        return {}
    cycle = cycles.current(session=session, workspace_id=ws.id, today=cycles.org_today(ws, now))
    if cycle is None:
        return {}
    out: dict[str, Participation] = {}
    for team in session.scalars(select(Team).where(Team.workspace_id == ws.id,
                                                   Team.lead_id == person_id)
                                .order_by(Team.name)):
        found = participation(session=session, ws=ws, team=team, cycle=cycle,
                              since=last_digest_at(session, ws, team, cycle))
        if found is not None:
            out[team.name] = found
    return out
