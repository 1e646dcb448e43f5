"""OAuth ``okr serve`` over real HTTP: tokens encrypted and never logged, ``tokens_revoked``
deletes them, ``app_uninstalled`` disables the workspace (API refused) until a reinstall.

Two installed workspaces (T0TEST and T0OTHER) share one server; what happens to one never
touches the other.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services.tenancy import tokens
from app.services.tenancy.installations import EncryptedInstallationStore
from app.services.tenancy.secrets import PREFIX, TokenCipher
from tests.dbutil import migrated_engine
from tests.fakeslack import FakeSlack
from tests.fixtures.served import free_port, wait_healthy, wait_until
from tests.slack import seed
from tests.slackreq import SlackRequests

SIGNING = "oauth-e2e-signing"
KEY = "an operator key for the e2e test"
CLIENT_ID = "111.222"
TEAMS = ("T0TEST", "T0OTHER")


@dataclass
class OAuthServed:
    url: str
    fake: FakeSlack
    engine: Engine
    log: Path
    api_tokens: dict[str, str]

    def req(self, team: str) -> SlackRequests:
        return SlackRequests(SIGNING, team_id=team, response_base=self.fake.base_url)

    def rows(self, team: str) -> dict[str, list[tuple[object, ...]]]:
        with self.engine.connect() as conn:
            return {t: [tuple(r) for r in conn.execute(text(
                f"SELECT bot_token, bot_refresh_token FROM {t} WHERE team_id = :t"), {"t": team})]
                for t in ("slack_installations", "slack_bots")}

    def api(self, team: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v1/key-results/kr-inc", timeout=5,
                            headers={"Authorization": f"Bearer {self.api_tokens[team]}"})


def installation(team: str, now: datetime) -> Installation:
    return Installation(
        app_id="A0OKR", enterprise_id=None, team_id=team, team_name=team, user_id="U0ADA",
        bot_token=f"xoxb-seed-{team}", bot_id="B0BOT", bot_user_id="U0BOT",
        bot_scopes="chat:write,commands", bot_refresh_token=f"xoxe-1-bot-refresh-{team}",
        bot_token_expires_at=now + timedelta(days=1), user_token=f"xoxp-seed-user-{team}",
        user_refresh_token=f"xoxe-1-user-refresh-{team}",
        user_token_expires_at=now + timedelta(days=1), installed_at=now.timestamp())


@pytest.fixture(scope="module")
def oauth_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OAuthServed]:
    tmp = tmp_path_factory.mktemp("oauth-e2e")
    with migrated_engine("postgresql", tmp) as engine, FakeSlack() as fake:
        now = datetime.now(UTC)
        api_tokens = {}
        with Session(engine) as s:
            for team in TEAMS:
                org = seed.standard(s, now, team_id=team)
                api_tokens[team] = tokens.create(session=s, workspace_id=org.workspace.id,
                                                 name="ci", now=now).secret
            s.commit()
        store = EncryptedInstallationStore(CLIENT_ID, engine, TokenCipher(KEY))
        for team in TEAMS:
            store.save(installation(team, now))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
               "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": "shh",
               "SLACK_SIGNING_SECRET": SIGNING, "SLACK_API_URL": fake.api_url,
               "OKR_SECRET_KEY": KEY, "OKR_WEB_THREADS": "4", "OKR_LOG_LEVEL": "DEBUG"}
        for key in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "OKR_SECRET_KEY_OLD",
                    "OKR_RETENTION_DAYS"):
            env.pop(key, None)
        log = tmp / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "okr"), "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--no-scheduler"], cwd=tmp, env=env, stdout=out,
                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, log)
            yield OAuthServed(base, fake, engine, log, api_tokens)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def install_over_http(served: OAuthServed) -> None:
    page = requests.get(f"{served.url}/slack/install", timeout=5)
    assert page.status_code == 200
    state = re.search(r"state=([\w-]+)", page.text)
    assert state is not None
    cookie = page.cookies.get("slack-app-oauth-state")  # Secure: sent back by hand over http
    done = requests.get(f"{served.url}/slack/oauth_redirect",
                        params={"code": "good", "state": state.group(1)},
                        headers={"Cookie": f"slack-app-oauth-state={cookie}"}, timeout=10)
    assert done.status_code == 200, done.text[:300]


def test_every_stored_token_is_encrypted_and_none_is_logged(oauth_served: OAuthServed) -> None:
    install_over_http(oauth_served)  # T0TEST again: slack_sdk logs the token exchange at DEBUG
    for team in TEAMS:
        for table, rows in oauth_served.rows(team).items():
            assert rows, table
            assert all(v is None or v.startswith(PREFIX) for row in rows for v in row), table
    with oauth_served.engine.connect() as conn:
        users = conn.execute(text("SELECT user_token, user_refresh_token "
                                  "FROM slack_installations")).all()
    stored = [v for row in users for v in row if v is not None]
    assert len(stored) == 4 and all(v.startswith(PREFIX) for v in stored)  # the seeded ones
    logged = oauth_served.log.read_text(errors="replace")
    assert "oauth.v2.access" in logged  # the exchange was logged at DEBUG...
    assert not re.search(r"xox[a-z]-", logged), logged[-2000:]  # ...without a token


def test_tokens_revoked_deletes_every_token_of_the_team(oauth_served: OAuthServed) -> None:
    # The bot token revoked: installation rows hold a copy of it and of its refresh token.
    event = oauth_served.req("T0TEST").event(
        {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}})
    assert event.post(f"{oauth_served.url}/slack/events").status_code == 200
    wait_until(lambda: not any(oauth_served.rows("T0TEST").values()))
    other = oauth_served.rows("T0OTHER")
    assert other["slack_installations"] and other["slack_bots"]


def test_app_uninstalled_disables_until_reinstall(oauth_served: OAuthServed) -> None:
    assert oauth_served.api("T0TEST").status_code == 200
    event = oauth_served.req("T0TEST").event({"type": "app_uninstalled"})
    assert event.post(f"{oauth_served.url}/slack/events").status_code == 200

    def disabled() -> Workspace | None:
        with Session(oauth_served.engine) as s:
            return s.scalars(select(Workspace).where(
                Workspace.slack_team_id == "T0TEST", Workspace.disabled_at.is_not(None))).first()

    wait_until(lambda: disabled() is not None)
    ws = disabled()
    assert ws is not None and ws.purge_after is not None and ws.disabled_at is not None
    assert ws.purge_after - ws.disabled_at == timedelta(days=30)
    refused = oauth_served.api("T0TEST")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "workspace_disabled"
    assert "uninstalled" in refused.json()["error"]["message"]
    assert oauth_served.api("T0OTHER").status_code == 200
    assert not any(oauth_served.rows("T0TEST").values())

    install_over_http(oauth_served)  # the fake Slack installs T0TEST
    assert disabled() is None
    assert oauth_served.api("T0TEST").status_code == 200
