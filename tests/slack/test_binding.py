"""Workspaces are bound explicitly, over real HTTP: only the bot token's team (one workspace),
only installed teams (OAuth), an imported workspace only by the team it names, and no
Enterprise Grid organisation-wide install. Refused requests create nothing."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from slack_bolt import App
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.bootstrap import Container
from app.db import make_session_factory
from app.models import AuditEntry, Person, Workspace
from app.services.data.imports import load
from app.services.tenancy import installations, workspaces
from app.slack import create_bolt_app, env_of
from app.web import create_web_app
from tests.fakeslack import FakeSlack
from tests.fixtures.slack import SECRET, make_settings
from tests.slackreq import SignedRequest, SlackRequests

OAUTH = {"SLACK_BOT_TOKEN": None, "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "shh",
         "OKR_SECRET_KEY": "operator secret"}
SECRET_TITLE = "Acme confidential plan"


def org_yaml(slack_team: str | None = None) -> str:
    today = datetime.now(UTC).date()
    settings: dict[str, Any] = {"name": "Acme", "timezone": "UTC"}
    if slack_team:
        settings["slack_team"] = slack_team
    doc = {
        "settings": settings,
        "cycles": [{"name": "Q", "start": (today - timedelta(days=30)).isoformat(),
                    "end": (today + timedelta(days=60)).isoformat(), "phase": "active"}],
        "people": [{"slack_id": "U0ADA", "name": "Ada"}],
        "teams": [{"id": "eng", "name": "Engineering", "lead": "U0ADA", "members": ["U0ADA"]}],
        "objectives": [{"id": "acme-plan", "team": "eng", "owner": "U0ADA",
                        "title": SECRET_TITLE,
                        "key_results": [{"id": "kr-a", "title": "Ship it",
                                         "type": "milestone"}]}],
    }
    return json.dumps(doc)  # JSON is YAML


def import_org(engine: Engine, slack_team: str | None = None, ref: str | None = None) -> None:
    now = datetime.now(UTC)
    with Session(engine) as s:
        ws = (workspaces.by_ref(session=s, ref=ref) if ref
              else workspaces.default_workspace(session=s, now=now))
        assert ws is not None
        load.import_text(session=s, workspace=ws, text=org_yaml(slack_team), now=now)
        s.commit()


@dataclass
class Site:
    url: str
    bolt: App
    fake: FakeSlack
    engine: Engine

    def post(self, req: SignedRequest) -> requests.Response:
        resp = req.post(f"{self.url}/slack/events")
        env_of(self.bolt).drain()
        assert resp.status_code == 200, resp.text
        return resp

    def team(self, team_id: str) -> SlackRequests:
        return SlackRequests(SECRET, team_id=team_id, response_base=self.fake.base_url)

    def rows(self) -> dict[str, Any]:
        with Session(self.engine) as s:
            teams = {n: t for n, t in s.execute(select(Workspace.name, Workspace.slack_team_id))}
            people = sorted(s.scalars(select(Person.slack_id)))
        return {"workspaces": teams, "people": people}

    def install(self, code: str) -> requests.Response:
        page = requests.get(f"{self.url}/slack/install", timeout=10)
        assert page.status_code == 200
        state = re.search(r"state=([\w-]+)", page.text)
        assert state is not None
        # The state cookie is Secure (HTTPS only): hand it back ourselves over plain HTTP.
        cookie = page.headers["set-cookie"].split(";")[0]
        done = requests.get(f"{self.url}/slack/oauth_redirect?code={code}&state={state.group(1)}",
                            headers={"Cookie": cookie}, timeout=10)
        env_of(self.bolt).drain()  # the install's directory sync runs after the redirect
        return done


@contextmanager
def serving(fake: FakeSlack, engine: Engine, **extra: Any) -> Iterator[Site]:
    settings = make_settings(fake, **extra)
    container = Container(settings=settings, engine=engine,
                          session_factory=make_session_factory(engine))
    bolt = create_bolt_app(settings, container, clock=lambda: datetime.now(UTC))
    server = make_server("127.0.0.1", 0, create_web_app(container, bolt), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", bolt, fake, engine)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        env_of(bolt).executor.shutdown(wait=True)


def listed(resp: requests.Response) -> str:
    return json.dumps(resp.json()) if resp.text else ""


# --- single workspace (SLACK_BOT_TOKEN): the token's own team only ----------------------------

def test_single_workspace_serves_only_the_bot_tokens_team(fake_slack: FakeSlack,
                                                          fresh_engine: Engine) -> None:
    fake_slack.add_user("U0ADA", name="Ada")
    fake_slack.add_user("U0ZED", name="Zed")
    import_org(fresh_engine)  # unbound: before the app was installed
    with serving(fake_slack, fresh_engine) as site:
        stranger = site.team("T0STRANGER")
        resp = site.post(stranger.command("U0ZED", "list"))
        assert resp.json()["response_type"] == "ephemeral"
        assert "not set up for this workspace" in resp.json()["text"]
        assert SECRET_TITLE not in resp.text
        home = site.post(stranger.event({"type": "app_home_opened", "user": "U0ZED",
                                         "tab": "home"}))
        assert home.text == ""
        assert site.rows() == {"workspaces": {"Acme": None}, "people": ["U0ADA"]}

        # The bot token's team (auth.test: T0TEST) claims the imported workspace.
        ours = site.post(site.team("T0TEST").command("U0ADA", "list"))
        assert SECRET_TITLE in listed(ours)
        assert site.rows()["workspaces"] == {"Acme": "T0TEST"}
        again = site.post(stranger.command("U0ZED", "list"))
        assert SECRET_TITLE not in again.text and "not set up" in again.text
    assert site.rows() == {"workspaces": {"Acme": "T0TEST"}, "people": ["U0ADA"]}
    with Session(fresh_engine) as s:
        bound = s.scalars(select(AuditEntry).where(AuditEntry.action == "workspace.bound")).all()
    assert [(a.subject_key, a.after) for a in bound] == [
        ("T0TEST", {"slack_team": "T0TEST", "by": "bot_token"})]


def test_import_naming_another_team_is_not_claimed_by_the_bot_team(
        fake_slack: FakeSlack, fresh_engine: Engine) -> None:
    fake_slack.add_user("U0ADA", name="Ada")
    import_org(fresh_engine, slack_team="T0ELSE")
    with serving(fake_slack, fresh_engine) as site:
        resp = site.post(site.team("T0TEST").command("U0ADA", "list"))
        assert SECRET_TITLE not in listed(resp)
        elsewhere = site.post(site.team("T0ELSE").command("U0ADA", "list"))
        assert "not set up" in elsewhere.text
    rows = site.rows()["workspaces"]
    assert rows["Acme"] == "T0ELSE" and "T0TEST" in rows.values()


def test_enterprise_grid_event_creates_nothing(fake_slack: FakeSlack,
                                               fresh_engine: Engine) -> None:
    with serving(fake_slack, fresh_engine) as site:
        resp = site.post(site.team("T0TEST").grid_event({"type": "app_home_opened",
                                                          "user": "U0ZED", "tab": "home"}))
        assert resp.text == ""
    assert site.rows() == {"workspaces": {}, "people": []}


# --- OAuth: installed teams only; an install binds its team ---------------------------------

def test_oauth_install_binds_only_the_team_an_import_names(fake_slack: FakeSlack,
                                                           fresh_engine: Engine) -> None:
    fake_slack.add_user("U0ADA", name="Ada")
    fake_slack.add_user("U0ZED", name="Zed")
    import_org(fresh_engine)  # unbound
    with serving(fake_slack, fresh_engine, **OAUTH) as site:
        refused = site.team("T0NOPE").command("U0ZED", "list")
        assert site.post(refused).text == ""  # the reply goes to the command's response_url
        replies = json.dumps(fake_slack.responses(refused.response_key))
        assert "not set up for this workspace" in replies and SECRET_TITLE not in replies
        assert site.rows() == {"workspaces": {"Acme": None}, "people": ["U0ADA"]}

        # A stranger installs first: a workspace of its own, none of the imported data.
        assert site.install("good-T0STRANGER").status_code == 200
        assert site.rows()["workspaces"] == {"Acme": None, "Team T0STRANGER": "T0STRANGER"}
        theirs = site.post(site.team("T0STRANGER").command("U0ZED", "list"))
        assert SECRET_TITLE not in listed(theirs)

        # The import names its team; that team's install finds its data.
        import_org(fresh_engine, slack_team="T0TEST", ref="Acme")
        assert site.install("good").status_code == 200
        ours = site.post(site.team("T0TEST").command("U0ADA", "list"))
        assert SECRET_TITLE in listed(ours)
    rows = site.rows()
    assert rows["workspaces"] == {"Acme": "T0TEST", "Team T0STRANGER": "T0STRANGER"}
    # Each install's directory sync reads the fake Slack's one user list into its own
    # workspace; Zed's request before any install created nothing (checked above).
    assert set(rows["people"]) == {"U0ADA", "U0ZED"}
    with Session(fresh_engine) as s:
        zeds = s.scalars(select(Person).where(Person.slack_id == "U0ZED")).all()
        teams = {s.get(Workspace, p.workspace_id).slack_team_id for p in zeds}  # type: ignore[union-attr]
        assert "T0STRANGER" in teams and None not in teams


def test_an_installation_without_a_workspace_gets_its_own_on_first_use(
        fake_slack: FakeSlack, fresh_engine: Engine) -> None:
    """An installation stored before installs bound workspaces (no workspace row yet) is
    served from a new workspace of its own; the unbound imported data stays unclaimed."""
    fake_slack.add_user("U0ZED", name="Zed")
    import_org(fresh_engine)  # unbound
    settings = make_settings(fake_slack, **OAUTH)
    installations.installation_store(settings, fresh_engine).save(Installation(
        app_id="A0APP", team_id="T0OLD", team_name="Old Team", bot_token="xoxb-oauth-T0OLD",
        bot_id="B0BOT", bot_user_id="U0BOT", user_id="U0ZED", installed_at=1700000000.0))
    with serving(fake_slack, fresh_engine, **OAUTH) as site:
        theirs = site.post(site.team("T0OLD").command("U0ZED", "list"))
        assert SECRET_TITLE not in listed(theirs)
        assert "not set up" not in json.dumps(fake_slack.responses())
    assert site.rows()["workspaces"] == {"Acme": None, "T0OLD": "T0OLD"}


def test_oauth_refuses_enterprise_grid_install_and_events(fake_slack: FakeSlack,
                                                         fresh_engine: Engine) -> None:
    with serving(fake_slack, fresh_engine, **OAUTH) as site:
        page = site.install("org")
        assert page.status_code == 403
        assert "Enterprise Grid" in page.text and "each workspace" in page.text
        resp = site.post(site.team("T0TEST").grid_event({"type": "app_home_opened",
                                                          "user": "U0ZED", "tab": "home"}))
        assert resp.status_code == 200
    assert [c.token for c in fake_slack.calls_to("auth.revoke")] == [
        "xoxb-oauth-E0ORG"]
    with fresh_engine.connect() as conn:
        stored = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("slack_bots", "slack_installations")]
        count = conn.execute(select(func.count()).select_from(Workspace)).scalar_one()
    assert (stored, count) == ([0, 0], 0)
