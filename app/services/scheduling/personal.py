"""What one person asks of the scheduler: their next prompts and next check-in, a preview of
their team's digest, and snoozing or skipping a prompt they were sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.workweek import WorkWeek
from app.config import ScoringSettings, Settings
from app.domain import CycleView, ObjectiveView
from app.models import Person, Team, TeamMember, Workspace
from app.services.errors import NotFound
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.scheduling import (
    digest_facts,
    followups,
    schedules,
    snoozes,
    upcoming,
    workweeks,
)
from app.services.scheduling.digest_facts import DigestFacts
from app.services.scheduling.followups import Followups
from app.services.scheduling.schedules import PersonPlan
from app.services.scheduling.upcoming import Upcoming
from app.services.tenancy.actors import workspace_and_person


@dataclass(frozen=True)
class PromptPlan:
    """Someone's effective check-in schedule, in their zone, and their next prompts."""

    plan: PersonPlan
    tz: str
    upcoming: list[Upcoming]
    week: WorkWeek  # the person's working days, hours and holiday calendar


def next_prompts(*, session: Session, workspace_id: int, person_id: int,
                 now: datetime) -> PromptPlan | None:
    """None when the person gets no prompts (they are deactivated)."""
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    plans = schedules.checkin_plans(session=session, ws=ws, person_ids=[me.id])
    week = workweeks.week_for(session, ws, me)
    coming = upcoming.upcoming_prompts(session=session, ws=ws, person=me, now=now, week=week)
    return PromptPlan(plans[0], me.tz, coming, week) if plans else None


def next_checkin(*, session: Session, workspace_id: int, person_id: int,
                 now: datetime) -> datetime | None:
    """The next prompt the scheduler would send (skipped ones left out), in the person's tz."""
    ws = session.get(Workspace, workspace_id)
    person = session.get(Person, person_id)
    if ws is None or person is None:
        return None
    for coming in upcoming.upcoming_prompts(session=session, ws=ws, person=person, now=now):
        if coming.skip_reason is None:
            return coming.local
    return None


def snooze(*, session: Session, workspace_id: int, person_id: int, delivery_id: int,
           until: str, now: datetime) -> datetime:
    """Ask again later (see ``snoozes.snooze``); returns when, in the person's zone."""
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    at = snoozes.snooze(session=session, ws=ws, person=me, delivery_id=delivery_id,
                          until=until, now=now)
    return at.astimezone(schedules.zone(me.tz))


def skip_week(*, session: Session, workspace_id: int, person_id: int, delivery_id: int,
              now: datetime) -> date:
    """No more prompts in the prompt's week; returns that week's Monday."""
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    return snoozes.skip_week(session=session, ws=ws, person=me, delivery_id=delivery_id,
                               now=now)


@dataclass(frozen=True)
class DigestPreview:
    """What a team's next digest would show: its objectives and what it compares against."""

    team_name: str
    channel_id: str | None
    cycle: CycleView
    objectives: list[ObjectiveView]
    facts: DigestFacts


def _team(session: Session, ws: Workspace, me: Person, key: str | None) -> Team:
    if key:
        team = session.scalars(select(Team).where(Team.workspace_id == ws.id,
                                                  Team.key == key)).first()
        if team is None:
            raise NotFound(f"no team {key!r}")
        return team
    mine = session.scalars(select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.workspace_id == ws.id, TeamMember.person_id == me.id).order_by(
        Team.channel_id.is_(None), Team.id)).first()
    if mine is None:
        raise NotFound("you are in no team: name one, e.g. `/okr digest eng`")
    return mine


def digest_preview(*, session: Session, workspace_id: int, person_id: int, team_key: str | None,
                   now: datetime, settings: ScoringSettings) -> DigestPreview:
    """The named team's digest (else that of the person's first team) as of now."""
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    team = _team(session, ws, me, team_key)
    today = cycles.org_today(ws, now)
    cycle = cycles.current(session=session, workspace_id=ws.id, today=today)
    if cycle is None:
        raise NotFound("there is no cycle yet")
    report = okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle, today=today,
                               now=now, settings=settings, include_private=False,
                               include_drafts=False)
    facts = digest_facts.digest_facts(session=session, ws=ws, team=team, cycle=cycle)
    return DigestPreview(team_name=team.name, channel_id=team.channel_id, cycle=report.cycle,
                         objectives=[o for o in report.objectives if o.team_key == team.key],
                         facts=facts)


def next_followups(*, session: Session, workspace_id: int, person_id: int, now: datetime,
                   settings: Settings, before: datetime | None = None) -> Followups:
    """The nudges and the lead's DM still to come for the person's last prompt (see
    ``followups.upcoming``); ``before``: the next prompt."""
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    return followups.upcoming(session=session, ws=ws, person=me, now=now, settings=settings,
                              before=before)
