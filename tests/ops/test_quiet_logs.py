"""What ``okr serve`` and ``okr tick`` write to their logs, as real processes: nothing per tick
unless the tick did something, no APScheduler run lines, no Bolt token warning, and with
``OKR_LOG_FORMAT=json`` one JSON object per line, extra fields included, no token."""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import seed
from tests.fixtures.served import free_port, wait_healthy
from tests.ops.procs import okr, started

pytestmark = pytest.mark.slow

CHATTER = ("Running job", "executed successfully", "Added job", "token will be unused")
# Ada (Europe/Berlin) is prompted on Mondays at 10:00 local time.
ADA_DUE = "2026-03-02T09:00:30Z"


def _seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'okr.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        seed(make_session_factory(engine))
    finally:
        engine.dispose()
    return url


def _slack(fake: FakeSlack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-logs-test-token", "SLACK_SIGNING_SECRET": "signing",
            "SLACK_API_URL": fake.api_url}


def _serve_logs(tmp_path: Path, fake: FakeSlack, seconds: float, **extra: str) -> str:
    """Run ``okr serve`` (scheduler on, a 5 s tick) for ``seconds``; its stdout and stderr."""
    port = free_port()
    proc = started("serve", "--host", "127.0.0.1", "--port", str(port),
                   database_url=_seeded(tmp_path), cwd=tmp_path, OKR_TICK_SECONDS="5",
                   **_slack(fake), **extra)
    log = tmp_path / "serve.log"
    try:
        log.write_text("")
        wait_healthy(f"http://127.0.0.1:{port}", proc, log)  # type: ignore[arg-type]
        time.sleep(seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    return out + err


def _json_lines(text: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(r, dict) for r in records)
    return records


def test_serve_logs_nothing_per_tick_when_nothing_is_due(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    (tmp_path / "json").mkdir()
    with FakeSlack() as fake:
        text = _serve_logs(tmp_path / "text", fake, 11, OKR_LOG_LEVEL="INFO")
        records = _json_lines(_serve_logs(tmp_path / "json", fake, 11, OKR_LOG_LEVEL="DEBUG",
                                          OKR_LOG_FORMAT="json"))
    for chatter in CHATTER:
        assert chatter not in text, text
    assert "scheduler.tick" not in text, text
    # The scheduler ran its ticks all the same (it says how many when it stops).
    stopped = re.search(r"scheduler\.stopped ticks=(\d+)", text)
    assert stopped is not None and int(stopped.group(1)) >= 2, text
    # The same quiet ticks are there at DEBUG: at least two in 11 s, with their fields.
    ticks = [r for r in records if r["message"] == "scheduler.tick"]
    assert len(ticks) >= 2, records
    assert all(t["level"] == "DEBUG" and t["delivered"] == {} for t in ticks)
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert datetime.fromisoformat(records[0]["time"]).utcoffset() == timedelta(0)
    assert any(r["logger"].startswith("gunicorn") for r in records)  # gunicorn's lines too
    assert not any("token will be unused" in r["message"] for r in records)
    assert "xoxb-" not in json.dumps(records)


def test_a_tick_that_sends_logs_one_line(tmp_path: Path) -> None:
    url = _seeded(tmp_path)
    with FakeSlack() as fake:
        first = okr("tick", "--at", ADA_DUE, database_url=url, cwd=tmp_path, **_slack(fake))
        again = okr("tick", "--at", ADA_DUE, database_url=url, cwd=tmp_path, **_slack(fake))
        assert fake.calls_to("chat.postMessage")
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    lines = [line for line in first.stderr.splitlines() if "scheduler.tick" in line]
    assert len(lines) == 1 and " INFO scheduler.jobs scheduler.tick " in lines[0], first.stderr
    assert "sent:" in lines[0]  # the extra fields are in the text line
    assert "scheduler.tick" not in again.stderr  # nothing new to send: nothing logged


def test_json_tick_line_parses_and_carries_its_fields(tmp_path: Path) -> None:
    url = _seeded(tmp_path)
    with FakeSlack() as fake:
        done = okr("tick", "--at", ADA_DUE, database_url=url, cwd=tmp_path,
                   OKR_LOG_FORMAT="json", **_slack(fake))
    assert done.returncode == 0, done.stderr
    records = _json_lines(done.stderr)
    ticks = [r for r in records if r["message"] == "scheduler.tick"]
    assert len(ticks) == 1 and ticks[0]["level"] == "INFO"
    assert any(k.startswith("sent:") for k in ticks[0]["delivered"]), ticks
    assert ticks[0]["at"].startswith("2026-03-02T09:00:30")
    assert "xoxb-" not in done.stderr + done.stdout
