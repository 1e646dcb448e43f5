"""OAuth install on our database, tokens encrypted at rest, and uninstall cleanup."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from app.bootstrap import Container
from app.db import make_engine, make_session_factory
from app.services.tenancy.secrets import PREFIX, TokenCipher
from app.slack import create_bolt_app, env_of
from app.web import create_web_app
from tests.fakeslack import FakeSlack
from tests.fixtures.slack import SECRET, make_settings
from tests.slackreq import SlackRequests


def test_cipher_round_trip_and_wrong_key() -> None:
    cipher = TokenCipher("a long operator secret")
    stored = cipher.encrypt("xoxb-123")
    assert stored is not None and stored.startswith(PREFIX) and "xoxb-123" not in stored
    assert cipher.decrypt(stored) == "xoxb-123"
    assert cipher.encrypt(stored) == stored  # never twice
    assert TokenCipher(None).encrypt("xoxb-1") == "xoxb-1"
    assert cipher.decrypt("xoxb-plain") == "xoxb-plain"  # rows from before the key was set
    with pytest.raises(RuntimeError, match="does not decrypt"):
        TokenCipher("another secret").decrypt(stored)
    with pytest.raises(RuntimeError, match="not set"):
        TokenCipher(None).decrypt(stored)


def test_install_then_use_then_uninstall(fake_slack: FakeSlack, fresh_engine: Engine) -> None:
    settings = make_settings(fake_slack, SLACK_BOT_TOKEN=None, SLACK_CLIENT_ID="111.222",
                             SLACK_CLIENT_SECRET="shh", OKR_SECRET_KEY="operator secret")
    container = Container(settings=settings, engine=fresh_engine,
                          session_factory=make_session_factory(fresh_engine))
    bolt = create_bolt_app(settings, container, clock=lambda: datetime.now(UTC))
    web = create_web_app(container, bolt).test_client()

    https = "https://okr.example.com"  # the state cookie is Secure
    page = web.get("/slack/install", base_url=https)
    assert page.status_code == 200
    state = re.search(r"state=([\w-]+)", page.get_data(as_text=True))
    assert state is not None
    done = web.get(f"/slack/oauth_redirect?code=good&state={state.group(1)}", base_url=https)
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    assert fake_slack.calls_to("oauth.v2.access")  # SLACK_API_URL honoured by OAuth too
    replay = web.get(f"/slack/oauth_redirect?code=good&state={state.group(1)}", base_url=https)
    assert replay.status_code >= 400  # a state works once
    forged = web.get("/slack/oauth_redirect?code=good&state=forged", base_url=https)
    assert forged.status_code >= 400

    with fresh_engine.connect() as conn:
        tokens = conn.execute(text("SELECT bot_token FROM slack_bots")).scalars().all()
    assert tokens and all(t.startswith(PREFIX) and "xoxb-oauth" not in t for t in tokens)

    fake_slack.add_user("U0ADA", name="Ada")
    req = SlackRequests(SECRET, response_base=fake_slack.base_url)
    signed = req.command("U0ADA", "help")
    resp = web.post("/slack/events", data=signed.body, headers=signed.headers)
    assert resp.status_code == 200 and "checkin" in resp.get_data(as_text=True)
    info = fake_slack.calls_to("users.info")[-1]
    assert info.token == "xoxb-oauth-T0TEST"

    event = req.event({"type": "app_uninstalled"}, event_id="EvUn1")
    assert web.post("/slack/events", data=event.body, headers=event.headers).status_code == 200
    env_of(bolt).drain()
    with fresh_engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM slack_bots")).scalar_one()
        audit = conn.execute(text(
            "SELECT count(*) FROM audit_log WHERE action = 'slack.app_uninstalled'")).scalar_one()
    assert (left, audit) == (0, 1)
    env_of(bolt).executor.shutdown()


def test_healthz_reports_database(fake_slack: FakeSlack, fresh_engine: Engine) -> None:
    settings = make_settings(fake_slack)
    container = Container(settings=settings, engine=fresh_engine,
                          session_factory=make_session_factory(fresh_engine))
    assert create_web_app(container).test_client().get("/healthz").status_code == 200
    down = make_engine("postgresql://postgres@127.0.0.1:1/nowhere", pool_pre_ping=False)
    broken = Container(settings=settings, engine=down, session_factory=make_session_factory(down))
    resp = create_web_app(broken).test_client().get("/healthz")
    assert resp.status_code == 503
