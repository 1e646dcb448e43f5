"""Serving: CLI checks, gunicorn settings, Socket Mode wiring, acks that never wait."""

from __future__ import annotations

import contextlib
import time

import pytest
from click.testing import CliRunner
from slack_bolt.adapter.socket_mode import SocketModeHandler

from app.commands.serve import gunicorn_options, serve
from app.config import Settings
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values


def test_serve_explains_missing_configuration() -> None:
    env = {"SLACK_SIGNING_SECRET": "", "SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": "",
           "SLACK_CLIENT_SECRET": "", "DATABASE_URL": "sqlite://"}
    result = CliRunner().invoke(serve, [], env=env)
    assert result.exit_code == 2 and "SLACK_SIGNING_SECRET is required" in result.output
    result = CliRunner().invoke(serve, [], env={**env, "SLACK_SIGNING_SECRET": "s"})
    assert result.exit_code == 2 and "SLACK_BOT_TOKEN" in result.output


def test_gunicorn_options_come_from_settings() -> None:
    settings = Settings(_env_file=None, OKR_WEB_WORKERS=3, OKR_WEB_THREADS=12)  # type: ignore[call-arg]
    opts = gunicorn_options(settings, "127.0.0.1", 4000)
    assert (opts["bind"], opts["workers"], opts["threads"], opts["worker_class"]) == (
        "127.0.0.1:4000", 3, 12, "gthread")


def test_listener_executor_is_sized_from_settings(slack: Harness) -> None:
    assert slack.env.executor._max_workers == slack.env.settings.listener_threads


def test_socket_mode_uses_slack_api_url(slack: Harness) -> None:
    handler = SocketModeHandler(slack.app, "xapp-test")
    with contextlib.suppress(Exception):  # the fake has no WebSocket endpoint
        handler.connect()
    opened = slack.fake.calls_to("apps.connections.open") or [
        c for c in slack.fake.calls if c.method == "apps.connections.open"]
    assert opened and opened[0].token == "xapp-test"


@pytest.mark.slow
def test_slow_slack_after_the_ack_does_not_delay_it(slack: Harness) -> None:
    msg = slack.app.client.chat_postMessage(channel="U0CY", text="Check in?")
    slack.send(slack.req.button("U0CY", "okr_open_checkin", "", channel=msg["channel"],
                                message_ts=msg["ts"]))
    view = slack.fake.last_view()
    assert view is not None
    slack.fake.slow("chat.update", 1.0)
    slack.fake.slow("views.publish", 1.0)
    req = slack.req.view_submission("U0CY", view, submitted_values(view, {"ci_value:kr-cy": "1"}))
    started = time.monotonic()
    resp = req.dispatch(slack.app)
    assert resp.status == 200 and time.monotonic() - started < 0.9
    slack.env.drain()
    assert slack.fake.home("U0CY") is not None

