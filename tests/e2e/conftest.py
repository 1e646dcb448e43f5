"""``okr serve`` as a real process (gunicorn, HTTP) on a fresh PostgreSQL database, with the
fake Slack as its Web API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session

from tests.dbutil import migrated_engine
from tests.fakeslack import FakeSlack
from tests.slack import seed
from tests.slackreq import SlackRequests

SECRET = "e2e-signing-secret"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    fake: FakeSlack
    req: SlackRequests
    database_url: str
    log: Path

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"okr serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"okr serve did not become healthy:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("e2e")
    with migrated_engine("postgresql", tmp) as engine, FakeSlack() as fake:
        now = datetime.now(UTC)
        with Session(engine) as s:
            seed.standard(s, now)
            s.commit()
        for sid, name in (("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy"), ("U0DEE", "Dee")):
            fake.add_user(sid, name=name)
        port = free_port()
        url = engine.url.render_as_string(hide_password=False)
        env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-e2e",
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
               "OKR_WEB_THREADS": "4", "OKR_LOG_LEVEL": "WARNING"}
        for key in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
            env.pop(key, None)
        log = tmp / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "okr"), "serve", "--host", "127.0.0.1", "--port",
                 str(port), "--no-scheduler"], cwd=tmp, env=env, stdout=out,
                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, log)
            yield Served(base, fake, SlackRequests(SECRET, response_base=fake.base_url), url, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.assert_no_violations()
