"""``okr serve --socket-mode`` as a real process: envelopes in over a WebSocket, acks out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakeslack import FakeSlack
from tests.slack.fakesocket import FakeSocketMode


@pytest.fixture()
def socket_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    with FakeSlack() as fake, FakeSocketMode() as sock:
        fake.add_user("U0ADA", name="Ada", tz="Europe/Berlin")
        fake.on("apps.connections.open", lambda p: {"url": sock.url})
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'okr.db'}",
               "SLACK_BOT_TOKEN": "xoxb-socket", "SLACK_APP_TOKEN": "xapp-socket",
               "SLACK_API_URL": fake.api_url, "OKR_LOG_LEVEL": "WARNING"}
        for key in ("SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
            env.pop(key, None)
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen([str(Path(sys.executable).parent / "okr"), "serve",
                                 "--socket-mode", "--no-scheduler"], cwd=tmp_path, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            if not sock.connected.wait(20):
                raise AssertionError((tmp_path / "serve.log").read_text()[-3000:])
            yield fake, sock
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.assert_no_violations()


@pytest.mark.slow
def test_slash_command_over_socket_mode(socket_app) -> None:  # type: ignore[no-untyped-def]
    fake, sock = socket_app
    sock.send({"envelope_id": "env-1", "type": "slash_commands",
               "accepts_response_payload": True, "payload": {
                   "team_id": "T0TEST", "channel_id": "C0GEN", "user_id": "U0ADA",
                   "user_name": "ada", "command": "/okr", "text": "help",
                   "api_app_id": "A0OKR", "response_url": fake.response_url("s1"),
                   "trigger_id": "1.2.socket"}})
    ack = sock.wait_ack("env-1")
    assert "checkin" in ack["payload"]["text"]
    assert fake.calls_to("apps.connections.open")[0].token == "xapp-socket"
    # The person was created from users.info through SLACK_API_URL.
    deadline = time.monotonic() + 5
    while not fake.calls_to("users.info") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.calls_to("users.info")[0].params["user"] == "U0ADA"
