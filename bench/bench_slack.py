"""Benchmark: Slack request latency of ``okr serve`` over HTTP on PostgreSQL, next to bare acks.

Starts, each under gunicorn with the same settings (1 worker, 8 threads, Flask adapter):

- ``okr serve`` on a fresh PostgreSQL database holding an organisation (60 objectives, 240
  KRs, 50 people), with the fake Slack (tests/fakeslack.py) as its Web API;
- a bare Bolt app that only acks, with Bolt's default runner (the 10 ms ack poll);
- the same bare app with ``process_before_response=True``;
- a bare ``process_before_response`` app whose check-in submission acks after one INSERT
  and COMMIT into the same PostgreSQL server (the floor for anything that records a write).

Then sends N signed requests per case, one case after the other in turn (so that a noisy
machine slows every case alike), and prints p50/p99 of the round trip on loopback:

- a 3-KR check-in submission (each a new view, so every one records three check-ins);
- ``/okr mine`` right after that check-in (its cached report is stale: re-scored);
- ``/okr mine`` again (steady state: the report is cached).

and their ratios to the floors. Targets (p99): the check-in at most 3x the INSERT-and-COMMIT
bare app, ``/okr mine`` at most 3x the ``process_before_response`` bare ack, both < 10 ms.

    .venv/bin/python -m bench.bench_slack [-n 1000] [--warmup 50] [--krs 3]
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TEAM = "T0BENCH"  # the bot's team: single-team mode serves only this one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the bare app (run in its own process) ----------------------------------------------------


def bare_app(process_before_response: bool, insert: bool = False) -> Any:
    """``insert``: the check-in submission writes one row and commits before it acks."""
    from flask import Flask, request
    from slack_bolt import App
    from slack_bolt.adapter.flask import SlackRequestHandler
    from slack_sdk import WebClient
    from sqlalchemy import text

    from app.db import make_engine

    client = WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=SECRET, client=client, token_verification_enabled=False,
              process_before_response=process_before_response)
    engine = make_engine(os.environ["DATABASE_URL"]) if insert else None
    if engine is not None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_floor "
                              "(id serial PRIMARY KEY, at timestamptz, body text)"))

    @app.command("/okr")
    def okr(ack: Callable[..., None]) -> None:
        ack()

    @app.view("okr_checkin")
    def view(ack: Callable[..., None], body: dict[str, Any]) -> None:
        if engine is not None:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_floor (at, body) VALUES (now(), :b)"),
                             {"b": body["view"]["callback_id"]})
        ack()

    web = Flask("bare")
    handler = SlackRequestHandler(app)

    @web.post("/slack/events")
    def events() -> Any:
        return handler.handle(request)

    @web.get("/healthz")
    def healthz() -> str:
        return "ok"

    return web


def serve_bare(port: int, mode: str) -> None:
    from app.commands.serve import GunicornApp
    from app.config import Settings

    settings = Settings(_env_file=None, OKR_LOG_LEVEL="WARNING")
    from app.commands.serve import gunicorn_options

    GunicornApp.run(bare_app(mode in ("pbr", "insert"), insert=mode == "insert"),
                    gunicorn_options(settings, "127.0.0.1", port))


# --- the organisation -----------------------------------------------------------------------------


def seed(session: Session, now: datetime, team_id: str, krs: int) -> None:
    from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember, Workspace

    ws = Workspace(name=team_id, slack_team_id=team_id, created_at=now, holiday_dates=[],
                   timezone="Europe/Berlin")
    session.add(ws)
    session.flush()
    people = []
    for i in range(50):
        p = Person(workspace_id=ws.id, slack_id=f"U{i:04d}", name=f"Person {i}",
                   tz="Europe/Berlin", created_at=now)
        session.add(p)
        people.append(p)
    session.flush()
    teams = []
    for t in range(8):
        team = Team(workspace_id=ws.id, key=f"team-{t}", name=f"Team {t}",
                    lead_id=people[t * 6].id, channel_id=f"C{t:04d}")
        session.add(team)
        teams.append(team)
    session.flush()
    for i, p in enumerate(people):
        session.add(TeamMember(workspace_id=ws.id, team_id=teams[i % 8].id, person_id=p.id))
    today = now.date()
    cycle = Cycle(workspace_id=ws.id, name="FY27-Q1", start_date=today.replace(day=1),
                  end_date=today.replace(day=1).replace(month=today.month % 12 + 1)
                  if today.month < 12 else today.replace(day=31), phase="active")
    session.add(cycle)
    session.flush()
    n = 0
    for o in range(60):
        obj = Objective(workspace_id=ws.id, key=f"obj-{o}", cycle_id=cycle.id,
                        team_id=teams[o % 8].id, owner_id=people[(o * 7) % 50].id,
                        title=f"Objective number {o} about something important",
                        created_at=now, updated_at=now, position=o)
        session.add(obj)
        session.flush()
        for k in range(4):
            # Person 0001 owns exactly ``krs`` KRs: the check-in modal has that many.
            owner = people[1] if n < krs else people[2 + n % 48]
            session.add(KeyResult(
                workspace_id=ws.id, key=f"kr-{o}-{k}", objective_id=obj.id, position=k,
                title=f"Key result {k} of objective {o}", kr_type="increase",
                start_value=0.0, target_value=100.0, current_value=float(n % 60),
                owner_id=owner.id, created_at=now, updated_at=now))
            n += 1
    session.flush()


# --- measuring ------------------------------------------------------------------------------------


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server at {url} exited early")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def workers(pid: int) -> list[int]:
    """The processes gunicorn's arbiter ``pid`` forked (its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_ticks(pids: list[int]) -> int:
    """User plus system time of these processes (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0


class Case:
    """One kind of request to one server, with its round trips and the server's CPU time."""

    def __init__(self, url: str, make: Callable[[], Any], server: list[int]) -> None:
        self.url, self.make, self.server = url, make, server
        self.ms: list[float] = []
        self.cpu_ticks = 0


def interleaved(http: requests.Session, cases: dict[str, Case], n: int,
                warmup: int) -> None:
    """Time ``n`` requests per case, one of each case in turn, so that a noisy machine slows
    every case alike (the ratios are what this benchmark is about).

    Each server's CPU time (its workers', every thread) from the start of one of its requests
    to the start of its next is charged to the first one's case: work a request leaves for
    after its answer counts for it. Clock ticks are coarse (10 ms), but summed over many
    requests the share each case gets is right."""
    last: dict[int, tuple[int, Case | None]] = {}
    for i in range(n + warmup):
        for name, case in cases.items():
            signed = case.make()
            key = id(case.server)
            ticks = cpu_ticks(case.server)
            before, previous = last.get(key, (ticks, None))
            if previous is not None and i >= warmup:
                previous.cpu_ticks += ticks - before
            last[key] = (ticks, case)
            started = time.perf_counter()
            resp = http.post(case.url, data=signed.body.encode(), headers=signed.headers,
                             timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            if resp.status_code != 200:
                raise SystemExit(f"{name}: HTTP {resp.status_code}: {resp.text[:300]}")
            if i >= warmup:
                case.ms.append(elapsed)


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile, nearest rank: of 1,000 samples p99 is the one ten are slower
    than (of 300, the one three are slower than: four slow requests move it)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="requests per case")
    parser.add_argument("--warmup", type=int, default=50,
                        help="rounds of every case before measuring (connections, prepared "
                             "statements, caches)")
    parser.add_argument("--krs", type=int, default=3, help="KRs in the check-in modal")
    parser.add_argument("--serve-bare", nargs=2, metavar=("PORT", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), args.serve_bare[1])
        return
    run(args.n, args.krs, args.warmup)


def run(n: int, krs: int, warmup: int) -> None:
    from app.db import make_engine
    from app.migrate import upgrade
    from tests.dbutil import fresh_postgres_database
    from tests.fakeslack import FakeSlack
    from tests.slack.state import submitted_values
    from tests.slackreq import SlackRequests

    procs: list[subprocess.Popen[bytes]] = []
    logdir = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    with fresh_postgres_database() as db_url, FakeSlack(team_id=TEAM) as fake:
        engine = make_engine(db_url)
        upgrade(engine)
        with Session(engine) as s:
            seed(s, datetime.now(UTC), TEAM, krs)
            s.commit()
        engine.dispose()
        for i in range(50):
            fake.add_user(f"U{i:04d}", name=f"Person {i}")
        ports = {name: free_port() for name in ("okr", "bare", "bare-pbr", "bare-insert")}
        env = {**os.environ, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-bench",
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
               "OKR_LOG_LEVEL": "WARNING", "OKR_WEB_WORKERS": "1", "OKR_WEB_THREADS": "8",
               "PYTHONPATH": str(ROOT)}
        okr = str(Path(sys.executable).parent / "okr")
        commands = {
            "okr": [okr, "serve", "--host", "127.0.0.1", "--port", str(ports["okr"]),
                    "--no-scheduler"],
            "bare": [sys.executable, "-m", "bench.bench_slack", "--serve-bare",
                     str(ports["bare"]), "default"],
            "bare-pbr": [sys.executable, "-m", "bench.bench_slack", "--serve-bare",
                         str(ports["bare-pbr"]), "pbr"],
            "bare-insert": [sys.executable, "-m", "bench.bench_slack", "--serve-bare",
                            str(ports["bare-insert"]), "insert"],
        }
        try:
            for name, cmd in commands.items():
                log = (logdir / f"{name}.log").open("wb")
                procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
            for name, port in ports.items():
                wait_healthy(f"http://127.0.0.1:{port}", procs[list(ports).index(name)])
            servers = {name: workers(proc.pid) for name, proc in zip(ports, procs, strict=True)}
            report(n, warmup, ports, servers, fake,
                   SlackRequests(SECRET, team_id=TEAM, response_base=fake.base_url),
                   submitted_values)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(f"(server logs in {logdir})")


def report(n: int, warmup: int, ports: dict[str, int], servers: dict[str, list[int]],
           fake: Any, req: Any, submitted_values: Callable[..., dict[str, Any]]) -> None:
    http = requests.Session()
    url = {name: f"http://127.0.0.1:{port}/slack/events" for name, port in ports.items()}
    user = "U0001"
    # Open the check-in modal once to get the view a person would submit.
    opened = req.button(user, "okr_open_checkin", "", channel="D0001", message_ts="1.1")
    http.post(url["okr"], data=opened.body.encode(), headers=opened.headers, timeout=10)
    deadline = time.monotonic() + 5
    while fake.last_view() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    view = fake.last_view()
    if view is None:
        raise SystemExit("the check-in modal did not open")
    inputs = [b["block_id"] for b in view["blocks"]
              if b.get("block_id", "").startswith("ci_value:")]
    values = submitted_values(view, {b: "42" for b in inputs})

    def submission() -> Any:
        fresh = {k: v for k, v in view.items() if k not in ("id", "hash")}
        return req.view_submission(user, fresh, values)

    def mine() -> Any:
        return req.command(user, "mine")

    # In turn: a check-in, then /okr mine (its cached report is stale: a cold read), then
    # /okr mine again (nothing written since: the steady state).
    checkin = f"okr {len(inputs)}-KR check-in"
    cases = {
        "bare ack /okr": Case(url["bare"], mine, servers["bare"]),
        "bare ack submit": Case(url["bare"], submission, servers["bare"]),
        "bare-pbr ack /okr": Case(url["bare-pbr"], mine, servers["bare-pbr"]),
        "bare-pbr ack submit": Case(url["bare-pbr"], submission, servers["bare-pbr"]),
        "bare INSERT+COMMIT": Case(url["bare-insert"], submission, servers["bare-insert"]),
        checkin: Case(url["okr"], submission, servers["okr"]),
        "okr mine after write": Case(url["okr"], mine, servers["okr"]),
        "okr /okr mine": Case(url["okr"], mine, servers["okr"]),
    }
    load_before = os.getloadavg()
    started = time.monotonic()
    interleaved(http, cases, n, warmup)
    took = time.monotonic() - started
    print(f"{len(inputs)} KRs in the check-in modal; {n} requests per case after {warmup} "
          f"rounds of warm-up, sequential and interleaved, loopback, gunicorn 1 worker x 8 "
          f"threads; {took:.0f} s; load {' '.join(f'{v:.2f}' for v in load_before)} before, "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()) + " after")
    print(f"{'case':<24}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max':>9}{'mean':>9}"
          f"{'CPU ms':>9}")
    for name, case in cases.items():
        print(f"{name:<24}" + "".join(f"{pct(case.ms, q):>9.1f}" for q in (50, 95, 99))
              + f"{max(case.ms):>9.1f}{statistics.fmean(case.ms):>9.1f}"
              f"{case.cpu_ticks * TICK_MS / len(case.ms):>9.2f}")
    print("(CPU ms: the server's CPU time per request, with what it did after answering; "
          "okr's Home refresh, one a second at most, lands mostly on /okr mine, whose turn "
          "lasts until the next check-in)")
    for name, floor in (("okr /okr mine", "bare-pbr ack /okr"),
                        (checkin, "bare INSERT+COMMIT"),
                        ("okr mine after write", "bare-pbr ack /okr")):
        ms, floor_ms = cases[name].ms, cases[floor].ms
        ratios = [f"p{q} {pct(ms, q):.1f} ms = {pct(ms, q) / pct(floor_ms, q):.2f}x"
                  for q in (50, 99)]
        p99, floor99 = pct(ms, 99), pct(floor_ms, 99)
        met = p99 <= 3 * floor99 and p99 < 10
        print(f"{name} against {floor}: " + ", ".join(ratios)
              + f"; target p99 <= 3x and < 10 ms: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
