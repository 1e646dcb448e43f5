"""The daily directory job also brings the teams that follow Slack in step: someone who left
the channel (or the group) without an event leaves the team; their history stays."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import AuditEntry, Checkin, KeyResult, Person, Team, TeamMember
from scheduler.jobs import tick
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import clients, make_settings
from tests.slack import seed


def members(factory: sessionmaker[Session], team: str) -> list[str]:
    with factory() as s:
        return sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.key == team)))


def test_the_daily_job_refreshes_teams_that_follow_slack(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, now: datetime) -> None:
    with unit_of_work(session_factory) as s:
        org = seed.standard(s, now)
        org.teams["eng"].members_from = {"channel": "C0ENG"}
        org.teams["company"].members_from = {"usergroup": "S0ALL"}
        cy_kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-cy")).one()
        s.add(Checkin(workspace_id=org.workspace.id, kr_id=cy_kr.id,
                      author_id=org.people["U0CY"].id, value=1.0, source="slack",
                      at=now - timedelta(days=1)))
    for slack_id in ("U0ADA", "U0BOB", "U0CY", "U0DEE"):
        fake_slack.add_user(slack_id)
    fake_slack.channel_members["C0ENG"] = ["U0ADA", "U0BOB"]  # Cy left; no event came
    fake_slack.usergroups["S0ALL"] = ["U0DEE"]
    settings = make_settings(fake_slack)
    tick(session_factory, settings, now, client_for=clients(settings), deliver=False)
    assert members(session_factory, "eng") == ["U0ADA", "U0BOB"]
    assert members(session_factory, "company") == ["U0DEE"]
    with session_factory() as s:
        assert s.scalar(select(Person.slack_id).join(KeyResult, KeyResult.owner_id == Person.id)
                        .where(KeyResult.key == "kr-cy")) == "U0CY"
        assert len(s.scalars(select(Checkin).where(
            Checkin.kr_id == cy_kr.id)).all()) == 1
        assert s.scalars(select(AuditEntry.actor_label).where(
            AuditEntry.action == "team.remove")).all() == ["slack-sync"]
    # Later ticks the same day read neither the directory nor the channel again.
    calls = len(fake_slack.calls_to("conversations.members"))
    tick(session_factory, settings, now + timedelta(hours=1), client_for=clients(settings),
         deliver=False)
    assert len(fake_slack.calls_to("conversations.members")) == calls


def test_a_channel_slack_refuses_keeps_the_team_and_the_rest_go_on(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, now: datetime) -> None:
    with unit_of_work(session_factory) as s:
        org = seed.standard(s, now)
        org.teams["eng"].members_from = {"channel": "C0GONE"}
        org.teams["company"].members_from = {"usergroup": "S0ALL"}
    fake_slack.usergroups["S0ALL"] = ["U0DEE", "U0ADA"]
    settings = make_settings(fake_slack)
    tick(session_factory, settings, now, client_for=clients(settings), deliver=False)
    assert members(session_factory, "eng") == ["U0ADA", "U0BOB", "U0CY"]
    assert members(session_factory, "company") == ["U0ADA", "U0DEE"]
