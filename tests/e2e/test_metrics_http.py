"""``GET /metrics`` over real HTTP: ``okr serve`` (gunicorn, two workers, PostgreSQL) with
``OKR_METRICS=on`` and a token; an ``okr tick`` process sends prompts through the fake Slack
(one 429 on the way) into the same multiprocess directory, and the scrape adds it all up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, insert, select

from app.db import make_session_factory
from app.metrics import NAMES
from app.models import Delivery, Workspace
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import seed
from tests.fixtures.served import Served, free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
T = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Monday 10:00 in Berlin: everyone's prompt
TOKEN = "scrape-token-e2e"
ORG = """
settings: {timezone: Europe/Berlin, timeline: none}
cycles:
  - {name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}
people:
  - {slack_id: U0001, name: One, tz: Europe/Berlin}
  - {slack_id: U0002, name: Two, tz: Europe/Berlin}
  - {slack_id: U0003, name: Three, tz: Europe/Berlin}
objectives:
  - id: o1
    cycle: FY27-Q1
    title: Everyone checks in
    key_results:
      - {id: kr1, title: KR one, owner: U0001, start: 0, target: 10}
      - {id: kr2, title: KR two, owner: U0002, start: 0, target: 10}
      - {id: kr3, title: KR three, owner: U0003, start: 0, target: 10}
"""


@dataclass
class Metered:
    url: str
    env: dict[str, str]
    engine: Engine
    fake: FakeSlack


def _env(engine: Engine, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "SLACK_BOT_TOKEN": "xoxb-e2e", "SLACK_SIGNING_SECRET": "e2e-secret",
           "SLACK_API_URL": fake.api_url, "OKR_LOG_LEVEL": "WARNING", "OKR_WEB_THREADS": "4",
           "OKR_SEND_RATE": "50", "OKR_WORKSPACE_SEND_RATE": "500", **extra}
    for key in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN",
                "PROMETHEUS_MULTIPROC_DIR", "OKR_METRICS", "OKR_METRICS_TOKEN"):
        if key not in extra:
            env.pop(key, None)
    return env


def _serve(env: dict[str, str], tmp: Path, *args: str) -> Iterator[str]:
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()",
                                 "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def metered(fresh_engine: Engine, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Metered]:
    seed(make_session_factory(fresh_engine), ORG)
    env = _env(fresh_engine, fake_slack, OKR_METRICS="on", OKR_METRICS_TOKEN=TOKEN,
               OKR_WEB_WORKERS="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"))
    for url in _serve(env, tmp_path, "--no-scheduler"):
        yield Metered(url, env, fresh_engine, fake_slack)


def scrape(url: str, token: str | None = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]],
                                                      float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = requests.get(f"{url}/metrics", headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_after_a_tick_add_up_across_processes(metered: Metered) -> None:
    metered.fake.rate_limit_next("chat.postMessage", count=1, retry_after=1)
    sent = 0
    for at in (T, T + timedelta(minutes=2)):  # the 429'd prompt goes in the second pass
        tick = subprocess.run([sys.executable, "-c", "from app.cli import main; main()",
                               "tick", "--at", at.isoformat()], cwd=ROOT, env=metered.env,
                              capture_output=True, timeout=120)
        assert tick.returncode == 0, tick.stderr.decode()
        out = tick.stdout.decode()
        sent += int(out.split("sent:prompt ")[1].split()[0].rstrip(",;")) \
            if "sent:prompt" in out else 0
    assert sent == 3
    # One more prompt due ten minutes ago and not sent yet: the delivery lag.
    now = datetime.now(UTC)
    with metered.engine.begin() as conn:
        ws = conn.scalar(select(Workspace.id))
        conn.execute(insert(Delivery).values(
            workspace_id=ws, kind="prompt", target="U0001", occurrence="lag-check",
            due_at=now - timedelta(minutes=10), state="pending", attempts=0, created_at=now))
    for _ in range(3):  # some requests to time, one on a route with a variable in it
        requests.get(f"{metered.url}/healthz", timeout=5)
    requests.post(f"{metered.url}/webhooks/github/some-hook-key", data=b"{}", timeout=5)

    samples = scrape(metered.url)
    assert value(samples, "okr_deliveries_total", kind="prompt", state="pending") == 3
    assert value(samples, "okr_deliveries_total", kind="prompt", state="sent") == 3
    assert value(samples, "okr_slack_api_calls_total", method="chat.postMessage",
                 outcome="ok") == 3
    assert value(samples, "okr_slack_api_calls_total", method="chat.postMessage",
                 outcome="ratelimited") == 1
    assert value(samples, "okr_slack_rate_limited_total", method="chat.postMessage") == 1
    assert value(samples, "okr_tick_duration_seconds_count") == 2
    assert value(samples, "okr_tick_duration_seconds_sum") > 0
    assert value(samples, "okr_deliveries_pending", kind="prompt") == 1
    assert value(samples, "okr_deliveries_pending", kind="digest") == 0
    lag = value(samples, "okr_delivery_lag_seconds")
    assert 590 <= lag <= 900, lag
    assert value(samples, "okr_http_request_duration_seconds_count", route="/healthz",
                 method="GET", status="200") >= 3
    assert value(samples, "okr_http_request_duration_seconds_count",
                 route="/webhooks/github/<key>", method="POST", status="404") == 1
    assert value(samples, "okr_webhook_events_total", provider="github",
                 outcome="not_found") == 1
    assert not any("some-hook-key" in str(labels) for _, labels in samples)
    exported = {name for name, _ in samples}
    assert all(any(e == n or e.startswith(n + "_") for n in NAMES) for e in exported
               if e.startswith("okr_")), exported


def test_a_scrape_needs_the_token(metered: Metered) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        resp = requests.get(f"{metered.url}/metrics", headers=headers, timeout=5)
        assert resp.status_code == 401, headers
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "okr_" not in resp.text


def test_off_by_default_is_404(served: Served) -> None:
    resp = requests.get(f"{served.url}/metrics", timeout=5)
    assert resp.status_code == 404


def test_the_scheduler_in_serve_reports_its_ticks(fresh_engine: Engine, fake_slack: FakeSlack,
                                                  tmp_path: Path) -> None:
    """One gunicorn worker, no multiprocess directory: the worker's own registry, with the
    scheduler ticking in it."""
    seed(make_session_factory(fresh_engine), ORG)
    env = _env(fresh_engine, fake_slack, OKR_METRICS="on", OKR_TICK_SECONDS="5")
    for url in _serve(env, tmp_path):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            samples = scrape(url, token=None)
            if value(samples, "okr_tick_duration_seconds_count") >= 1:
                break
            time.sleep(0.2)
        assert value(samples, "okr_tick_duration_seconds_count") >= 1
        assert value(samples, "okr_delivery_lag_seconds") == 0
        assert ("process_cpu_seconds_total", ()) in samples  # the process's own collectors


def test_the_worker_serves_health_and_metrics_on_its_port(
        fresh_engine: Engine, fake_slack: FakeSlack, tmp_path: Path) -> None:
    """``okr worker --port`` (the compose file's and the manifests' worker), and the image's
    health check command run as it is in the Dockerfile, on the port OKR_PORT names."""
    seed(make_session_factory(fresh_engine), ORG)
    port = free_port()
    env = _env(fresh_engine, fake_slack, OKR_METRICS="on", OKR_PORT=str(port))
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()",
                                 "worker", "--interval", "1", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        deadline = time.monotonic() + 30
        while value(got := scrape(url, token=None), "okr_tick_duration_seconds_count") < 2 \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert value(got, "okr_tick_duration_seconds_count") >= 2
        dockerfile = (ROOT / "Dockerfile").read_text()
        line = dockerfile.split("HEALTHCHECK", 1)[1].split("\n")[1].strip()
        command = json.loads(line.removeprefix("CMD "))
        assert command[0] == "python"
        ok = subprocess.run([sys.executable, *command[1:]], env=env, timeout=10)
        assert ok.returncode == 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0, log.read_text()[-2000:]
