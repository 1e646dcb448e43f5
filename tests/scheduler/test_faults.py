"""Faults on PostgreSQL: concurrent tick processes, a process killed mid-delivery, a 429
storm, and the database dropping our connections mid-tick. Zero duplicates, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update

from app.bootstrap import Container
from app.db import make_session_factory
from app.models import Delivery
from app.models.scheduling import WorkLease
from scheduler.jobs import tick
from scheduler.pacing import Pacer
from scheduler.runner import Loop
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import clients, make_settings, seed

ROOT = Path(__file__).resolve().parents[2]
T = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # everyone's Monday 10:00 Berlin is 09:00 UTC
N = 100


def big_org(n: int) -> str:
    people = "\n".join(f"  - {{slack_id: U{i:04d}, name: P{i}, tz: Europe/Berlin}}"
                       for i in range(n))
    krs = "\n".join(f"      - {{id: kr{i}, title: KR {i}, owner: U{i:04d}, start: 0, "
                    f"target: 10}}" for i in range(n))
    return f"""
settings: {{timezone: Europe/Berlin, timeline: none}}
cycles:
  - {{name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}}
people:
{people}
objectives:
  - id: o1
    cycle: FY27-Q1
    title: Everyone checks in
    key_results:
{krs}
"""


@pytest.fixture()
def pg(fresh_engine: Engine) -> Iterator[Engine]:
    seed(make_session_factory(fresh_engine), big_org(N))
    yield fresh_engine


def dm_counts(fake: FakeSlack) -> Counter[str]:
    return Counter(str(c.params.get("channel")) for c in fake.calls_to("chat.postMessage")
                   if c.response.get("ok"))


def states(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(Delivery.state, func.count())
                                         .group_by(Delivery.state)).all()))


def okr(engine: Engine, fake: FakeSlack, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ,
           "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.api_url,
           "OKR_LOG_LEVEL": "WARNING", "OKR_WORKSPACE_SEND_RATE": "500",
           "OKR_SEND_RATE": "50"}
    return subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", *args],
                            cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def assert_exactly_once(engine: Engine, fake: FakeSlack) -> None:
    counts = dm_counts(fake)
    assert set(counts) == {f"U{i:04d}" for i in range(N)}, "nothing lost"
    assert max(counts.values()) == 1, f"duplicates: {counts.most_common(3)}"
    assert states(engine) == Counter({"sent": N})


@pytest.mark.slow
def test_two_tick_processes_at_once(pg: Engine, fake_slack: FakeSlack) -> None:
    fake_slack.slow("chat.postMessage", 0.04)  # keep both busy at the same time
    procs = [okr(pg, fake_slack, "tick", "--at", T.isoformat()) for _ in range(2)]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        outputs.append(out.decode())
    assert_exactly_once(pg, fake_slack)
    sent = [int(o.split("sent:prompt ")[1].split()[0].rstrip(";")) if "sent:prompt" in o else 0
            for o in outputs]
    assert sum(sent) == N


def test_threads_with_separate_engines_race(pg: Engine, fake_slack: FakeSlack) -> None:
    settings = make_settings(fake_slack)
    url = pg.url.render_as_string(hide_password=False)
    errors: list[BaseException] = []

    def run() -> None:
        from app.db import make_engine
        engine = make_engine(url)
        try:
            tick(make_session_factory(engine), settings, T, client_for=clients(settings),
                 pacer=Pacer(500, 50), budget_seconds=60)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert_exactly_once(pg, fake_slack)


@pytest.mark.slow
def test_killed_mid_delivery_then_restarted(pg: Engine, fake_slack: FakeSlack) -> None:
    # Slack accepts each post at once but answers 5 s later: the kill lands while posts are
    # accepted and unrecorded (the ambiguous case), and while other rows are claimed.
    fake_slack.slow_reply("chat.postMessage", 5.0)
    proc = okr(pg, fake_slack, "tick", "--at", T.isoformat())
    deadline = time.monotonic() + 60
    while len(fake_slack.calls_to("chat.postMessage")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    accepted = len(fake_slack.calls_to("chat.postMessage"))
    assert 3 <= accepted < N
    assert states(pg)["sending"] >= 1
    fake_slack.slow_reply("chat.postMessage", 0.0)
    # Restarted after the leases ran out (simulated: the rows' in the tick's time, the
    # workspace's in real time): reconcile, then send the rest.
    with pg.begin() as conn:
        conn.execute(update(WorkLease).values(lease_until=datetime.now(UTC) - timedelta(1)))
    later = T + timedelta(minutes=5)
    out, err = okr(pg, fake_slack, "tick", "--at", later.isoformat()).communicate(timeout=120)
    assert b"reconciled" in out, out + err
    assert_exactly_once(pg, fake_slack)


@pytest.mark.slow
def test_429_storm_delivers_everything_once(pg: Engine, fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("chat.postMessage", per_second=25, retry_after=1)
    fake_slack.rate_limit_next("chat.postMessage", count=15, retry_after=1)
    settings = make_settings(fake_slack)
    factory = make_session_factory(pg)
    pacer = Pacer(40.0, 5.0)  # deliberately above the fake's limit: 429s will come
    now, deadline = T, time.monotonic() + 90
    limited = 0
    while states(pg).get("sent", 0) < N and time.monotonic() < deadline:
        result = tick(factory, settings, now, client_for=clients(settings), pacer=pacer,
                      budget_seconds=3, threads=2)
        limited += result.delivered["ratelimited"]
        now += timedelta(seconds=4)
    assert limited >= 15
    assert_exactly_once(pg, fake_slack)


@pytest.mark.slow
def test_loop_survives_the_database_dropping_connections(pg: Engine,
                                                         fake_slack: FakeSlack) -> None:
    settings = make_settings(fake_slack)
    container = Container(settings=settings, engine=pg, session_factory=make_session_factory(pg))
    times = iter([T, T + timedelta(minutes=5), T + timedelta(minutes=6)])
    loop = Loop(container, clients(settings), clock=lambda: next(times))
    loop.pacer = Pacer(200.0, 50.0)
    fake_slack.slow("chat.postMessage", 0.05)
    db = pg.url.database
    killed: list[int] = []

    def kill_connections() -> None:
        while len(fake_slack.calls_to("chat.postMessage")) < 5:
            time.sleep(0.01)
        # Only our own test database's sessions: the shared server keeps running. The pids
        # are selected first so the termination never applies to another database's rows.
        with pg.connect() as conn:
            pids = conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db "
                "AND pid <> pg_backend_pid()"), {"db": db}).scalars().all()
            for pid in pids:
                if conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar():
                    killed.append(pid)
            conn.commit()

    killer = threading.Thread(target=kill_connections)
    killer.start()
    loop()  # must not raise, whatever the database does underneath
    killer.join(30)
    assert killed, "the tick's connections were terminated mid-delivery"
    fake_slack.slow("chat.postMessage", 0.0)
    loop()  # later ticks catch up (the dropped tick's leases have expired)
    loop()
    assert loop.ticks + loop.failures == 3
    assert_exactly_once(pg, fake_slack)
