"""team_join and user_change through the real Bolt app keep the directory current; an OAuth
install reads the directory after the redirect."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from slack_bolt import App
from sqlalchemy import Engine, select, text

from app.bootstrap import Container
from app.db import make_session_factory
from app.models import Person, Team, TeamMember, Workspace
from app.services.tenancy import people
from app.slack import create_bolt_app, env_of
from app.web import create_web_app
from tests.fakeslack import FakeSlack
from tests.fixtures.slack import Harness, make_settings


def slack_user(user_id: str, name: str, tz: str, **extra: object) -> dict[str, object]:
    return {"id": user_id, "name": name.lower(), "real_name": name, "tz": tz, "deleted": False,
            "is_bot": False, "profile": {"real_name": name, "display_name": name.lower(),
                                         "email": f"{name.lower()}@example.com"}, **extra}


def row(slack: Harness, slack_id: str) -> Person | None:
    with slack.session() as s:
        return s.scalars(select(Person).where(Person.slack_id == slack_id)).first()


def test_team_join_adds_a_person(slack: Harness) -> None:
    user = slack_user("U0NEW", "Newt", "Australia/Sydney")
    assert slack.send(slack.req.event({"type": "team_join", "user": user},
                                      event_id="EvJ1")).status == 200
    newt = row(slack, "U0NEW")
    assert newt is not None
    assert (newt.name, newt.display_name, newt.tz, newt.email, newt.active) == (
        "Newt", "newt", "Australia/Sydney", "newt@example.com", True)
    bot = slack_user("B0NEW", "Robot", "UTC", is_bot=True)
    slack.send(slack.req.event({"type": "team_join", "user": bot}, event_id="EvJ2"))
    assert row(slack, "B0NEW") is None


def test_user_change_updates_name_tz_and_deactivation(slack: Harness) -> None:
    slack.send(slack.req.event({"type": "user_change",
                                "user": slack_user("U0BOB", "Robert", "Asia/Tokyo")},
                               event_id="EvC1"))
    bob = row(slack, "U0BOB")
    assert bob is not None and (bob.name, bob.tz, bob.email) == (
        "Robert", "Asia/Tokyo", "robert@example.com")
    slack.send(slack.req.event({"type": "user_change", "user": slack_user(
        "U0BOB", "Robert", "Asia/Tokyo", deleted=True)}, event_id="EvC2"))
    bob = row(slack, "U0BOB")
    assert bob is not None and bob.active is False and bob.deactivated_at is not None
    # Someone we had not seen yet is added (the directory follows Slack).
    slack.send(slack.req.event({"type": "user_change",
                                "user": slack_user("U0ZED", "Zed", "UTC")}, event_id="EvC3"))
    assert row(slack, "U0ZED") is not None


def test_user_change_keeps_a_chosen_time_zone(slack: Harness) -> None:
    with slack.session() as s:
        ada = s.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
        people.set_own_tz(session=s, person=ada, tz="Pacific/Auckland", now=slack.now)
        s.commit()
    slack.send(slack.req.event({"type": "user_change",
                                "user": slack_user("U0ADA", "Ada", "Europe/Lisbon")},
                               event_id="EvC4"))
    ada_row = row(slack, "U0ADA")
    assert ada_row is not None and ada_row.tz == "Pacific/Auckland"


def _install(web: FlaskClient, bolt: App) -> None:
    """Slack's OAuth flow, from the install page to the redirect back, then the work the
    redirect leaves for later."""
    https = "https://okr.example.com"
    page = web.get("/slack/install", base_url=https)
    state = re.search(r"state=([\w-]+)", page.get_data(as_text=True))
    assert state is not None
    done = web.get(f"/slack/oauth_redirect?code=good&state={state.group(1)}", base_url=https)
    assert done.status_code == 200
    env_of(bolt).drain()


def _oauth_app(fake_slack: FakeSlack, engine: Engine) -> tuple[App, FlaskClient]:
    settings = make_settings(fake_slack, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222",
                             SLACK_CLIENT_SECRET="shh", OKR_SECRET_KEY="operator secret")
    container = Container(settings=settings, engine=engine,
                          session_factory=make_session_factory(engine))
    bolt = create_bolt_app(settings, container, clock=lambda: datetime.now(UTC))
    return bolt, create_web_app(container, bolt).test_client()


def test_install_reads_the_directory(fake_slack: FakeSlack, fresh_engine: Engine) -> None:
    fake_slack.add_user("U0ADA", name="Ada", tz="Europe/London", email="ada@example.com")
    fake_slack.add_user("B0X", name="A bot", is_bot=True)
    bolt, web = _oauth_app(fake_slack, fresh_engine)
    _install(web, bolt)
    listed = fake_slack.calls_to("users.list")
    assert listed and listed[0].token == "xoxb-oauth-T0TEST"
    with fresh_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.slack_id, p.email, p.tz FROM people p JOIN workspaces w "
            "ON w.id = p.workspace_id WHERE w.slack_team_id = 'T0TEST'")).all()
    assert [tuple(r) for r in rows] == [("U0ADA", "ada@example.com", "Europe/London")]
    env_of(bolt).executor.shutdown()


def test_a_reinstall_refreshes_the_teams_that_follow_slack(fake_slack: FakeSlack,
                                                            fresh_engine: Engine) -> None:
    """A team following a channel gets the channel's members again when the app is
    installed anew (the days without a token brought no events)."""
    for uid, name in (("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy")):
        fake_slack.add_user(uid, name=name, tz="Europe/London")
    fake_slack.channel_members["C0ENG"] = ["U0ADA", "U0BOB"]
    bolt, web = _oauth_app(fake_slack, fresh_engine)
    _install(web, bolt)
    factory = make_session_factory(fresh_engine)
    with factory() as s:
        ws_id = s.scalars(select(Workspace.id).where(Workspace.slack_team_id == "T0TEST")).one()
        s.add(Team(workspace_id=ws_id, key="eng", name="Eng", channel_id="C0ENG",
                   members_from={"channel": "C0ENG"}))
        s.commit()
    fake_slack.channel_members["C0ENG"] = ["U0BOB", "U0CY"]  # changed while uninstalled
    _install(web, bolt)
    with factory() as s:
        got = sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.key == "eng")))
    assert got == ["U0BOB", "U0CY"]
    env_of(bolt).executor.shutdown()

