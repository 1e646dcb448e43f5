"""Flows over real HTTP against ``okr serve`` (gunicorn + Flask + Bolt) on PostgreSQL."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import create_engine, text

from app.db import normalise_url
from blocks.checkin import open_value
from blocks.ids import Action
from tests.fixtures.served import Served, wait_until
from tests.slack.state import submitted_values


@pytest.mark.slow
def test_healthz(served: Served) -> None:
    resp = requests.get(f"{served.url}/healthz", timeout=5)
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_mine_over_http(served: Served) -> None:
    resp = served.req.command("U0BOB", "mine").post(served.events_url)
    assert resp.status_code == 200
    body = resp.json()
    assert body["response_type"] == "ephemeral"
    assert "Grow activation" in str(body["blocks"])


def test_bad_signature_and_stale_timestamp_are_401(served: Served) -> None:
    bad = served.req.command("U0BOB", "mine", bad_signature=True).post(served.events_url)
    stale = served.req.command("U0BOB", "mine", stale=True).post(served.events_url)
    assert (bad.status_code, stale.status_code) == (401, 401)


def test_checkin_flow_over_http(served: Served) -> None:
    fake = served.fake
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-e2e", base_url=fake.api_url)
    msg = client.chat_postMessage(channel="U0CY", text="Time to check in")
    resp = served.req.button("U0CY", Action.OPEN_CHECKIN, open_value(delivery_id=1),
                             channel=msg["channel"], message_ts=msg["ts"]).post(served.events_url)
    assert resp.status_code == 200
    view = fake.last_view()
    assert view is not None and "Fix onboarding bugs" in str(view["blocks"])
    values = submitted_values(view, {"ci_value:kr-cy": "2", "ci_status:kr-cy": "green"})
    resp = served.req.view_submission("U0CY", view, values).post(served.events_url)
    assert resp.status_code == 200 and resp.text == ""
    wait_until(lambda: fake.home("U0CY") is not None)
    wait_until(lambda: any(c.params.get("ts") == msg["ts"] for c in fake.calls_to("chat.update")))
    engine = create_engine(normalise_url(served.database_url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.value, c.status FROM checkins c JOIN key_results k ON k.id = c.kr_id "
            "WHERE k.key = 'kr-cy'")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(2.0, "green")]


def test_event_retry_over_http_is_processed_once(served: Served) -> None:
    event = {"type": "app_home_opened", "user": "U0ADA", "tab": "home"}

    def publishes() -> int:
        return len(served.fake.calls_to("views.publish"))

    # Home refreshes queued by the tests before this one may still be on their way: let
    # them land before counting.
    seen, quiet_since = publishes(), time.monotonic()
    deadline = quiet_since + 10
    while time.monotonic() - quiet_since < 0.5 and time.monotonic() < deadline:
        time.sleep(0.05)
        if publishes() != seen:
            seen, quiet_since = publishes(), time.monotonic()
    before = publishes()
    for retry in (None, 1):
        resp = served.req.event(event, event_id="EvE2E1", retry_num=retry).post(
            served.events_url)
        assert resp.status_code == 200
        wait_until(lambda: publishes() == before + 1)
    time.sleep(0.2)
    assert publishes() == before + 1


@pytest.mark.slow
def test_optional_blueprints_are_served(served: Served) -> None:
    """app.api and app.webhooks register themselves when present."""
    api = requests.get(f"{served.url}/api/v1/openapi.json", timeout=5)
    assert api.status_code == 200 and "paths" in api.json()
    hook = requests.post(f"{served.url}/webhooks/github", data=b"{}", timeout=5)
    assert hook.status_code != 404
