"""Soak: two scheduler replicas for a few minutes against a fake Slack that fails at random.

A fresh PostgreSQL database holds W workspaces of P people, each person with a weekday
check-in time, spread so that prompts fall due all through the run, and a team channel with
its digest. (Nudges come a working day after a prompt: a run shorter than a simulated day
has none.) Two replica processes run the scheduler as
``okr worker`` does (``scheduler.runner.start``: APScheduler, work leases, pacing), with a
simulated clock at ``--speed`` (60: a real minute is an hour). The fake Slack (in this process)
answers a share of ``chat.postMessage`` calls with a 429, with a 5xx before posting, and with
a 5xx after posting (the ambiguous send that reconciliation must find). For the last
``--drain`` seconds the faults stop, so what is left settles.

Reports duplicates (a delivery part posted more than once), losses (a row due before the end
that was not sent, skipped or failed for a reason; a row recorded sent with no post), the rows
by state, the 429s and 5xx injected, and each replica's memory: its RSS (sampled from here
every 5 s) and, each minute between two ticks, where its memory is (``memory``: pymalloc's
arenas and the blocks in use in them, the C heap in use and free, what the cyclic collector
freed, live objects, SQLAlchemy's statement cache, the per-process caches' entries).

"Flat" means, for each replica, from the end of the warm-up (``WARM_UP`` minutes: imports
done, caches and connections filled) to the end of the run: RSS grows by at most
``FLAT_RSS_MB`` and the memory Python holds (pymalloc's blocks in use plus the C heap in use)
by at most ``FLAT_USED_MB``. The rows the run writes grow all along (every prompt of the run
stays in the ladder's window), and so do the entries kept for them: that is what the margins
are for. Expected: 0 duplicates, 0 lost, flat; the exit status is 1 otherwise.

    .venv/bin/python bench/soak.py --minutes 10 [--workspaces 4] [--people 300] [--speed 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, insert, select

from app.bootstrap import Container
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.models import Cycle, Delivery, KeyResult, Objective, Person, Team, TeamMember, Workspace
from bench.bench_tick import CREATED, database
from bench.memstats import Sampler, rss_kb
from scheduler import runner
from scheduler.clients import make_client
from tests.fakeslack import FakeSlack

START = datetime(2026, 3, 2, 8, 58, tzinfo=UTC)  # a Monday, just before the first prompts
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
WARM_UP = 2  # minutes
FLAT_RSS_MB = 2.0  # RSS growth allowed after the warm-up (of about 120 MB)
FLAT_USED_MB = 1.0  # growth of what Python holds allowed after the warm-up



class FlakySlack(FakeSlack):
    """The fake Slack, failing a share of ``chat.postMessage`` calls at random."""

    def __init__(self, p429: float, p5xx: float, seed: int = 11) -> None:
        super().__init__()
        self.p429, self.p5xx = p429, p5xx
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.faulty = True

    def handle(self, method: str, params: dict[str, Any], headers: dict[str, str],
               path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method != "chat.postMessage" or not self.faulty:
            return super().handle(method, params, headers, path)
        roll = self.rng.random()
        if roll < self.p429:
            self.injected["429"] += 1
            self.rate_limit_next(method, retry_after=1)
        elif roll < self.p429 + self.p5xx / 2:
            self.injected["5xx before posting"] += 1
            self.server_error_next(method, status=503)
        elif roll < self.p429 + self.p5xx:
            self.injected["5xx after posting"] += 1
            status, body, extra = super().handle(method, params, headers, path)
            return (500, {"ok": False, "error": "internal_error"}, {}) if status == 200 \
                else (status, body, extra)
        return super().handle(method, params, headers, path)


def build(engine: Engine, workspaces: int, people: int, sim_minutes: int) -> None:
    """Weekday check-in times spread over the run's simulated minutes (from 09:00)."""
    rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in (
        Workspace, Cycle, Person, Team, TeamMember, Objective, KeyResult)}
    for w in range(1, workspaces + 1):
        base = (w - 1) * people
        rows[Workspace].append({
            "id": w, "name": f"soak{w}", "slack_team_id": f"T{w:07d}",
            "fiscal_year_start_month": 2, "timezone": "Europe/London", "timeline_preset": "none",
            "holiday_dates": [], "created_at": CREATED,
            "digest_schedule": {"cadence": "weekly", "day": WEEKDAYS, "time": "09:30"}})
        rows[Cycle].append({"id": w, "workspace_id": w, "name": "FY27-Q1",
                            "start_date": date(2026, 2, 1), "end_date": date(2026, 4, 30),
                            "phase": "active"})
        rows[Team].append({"id": w, "workspace_id": w, "key": "team", "name": "Team",
                           "kind": "team", "channel_id": f"C{w:07d}", "lead_id": base + 1})
        rows[Objective].append({
            "id": w, "workspace_id": w, "key": "o1", "cycle_id": w, "team_id": w,
            "owner_id": base + 1, "title": "Objective", "visibility": "public",
            "commitment": "committed", "is_development": False, "rollup_mode": "krs",
            "is_draft": False, "position": 0, "created_at": CREATED, "updated_at": CREATED})
        for i in range(people):
            pid = base + i + 1
            minute = 2 + i * max(sim_minutes - 60, 1) // people  # the last hour settles
            at = f"{9 + minute // 60:02d}:{minute % 60:02d}"
            rows[Person].append({
                "id": pid, "workspace_id": w, "slack_id": f"U{pid:07d}", "name": f"P {pid}",
                "tz": "Europe/London", "active": True, "is_admin": False,
                "created_at": CREATED,
                "checkin_schedule": {"cadence": "weekly", "day": WEEKDAYS, "time": at}})
            rows[TeamMember].append({"workspace_id": w, "team_id": w, "person_id": pid})
            rows[KeyResult].append({
                "id": pid, "workspace_id": w, "key": f"kr{i}", "objective_id": w,
                "title": f"KR {i}", "kr_type": "increase", "start_value": 0.0,
                "target_value": 10.0, "weight": 1.0, "owner_id": pid, "state": "active",
                "position": i, "created_at": CREATED, "updated_at": CREATED})
    with engine.begin() as conn:
        for model, values in rows.items():
            conn.execute(insert(model.__table__), values)


def replica(url: str, api_url: str, t0: float, speed: float, trace: bool = False) -> None:
    """One replica, as ``okr worker`` runs (APScheduler and all), until SIGTERM. Each minute,
    between two ticks, its memory (``memory``); with ``trace``, what Python allocated and
    kept since its first minute, by line, at the end."""
    if trace:
        tracemalloc.start(int(os.environ.get("SOAK_TRACE_FRAMES", "1")))
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # "skipped: already running"
    settings = Settings(_env_file=None, SLACK_API_URL=api_url,  # type: ignore[call-arg]
                        SLACK_BOT_TOKEN="xoxb-soak", OKR_TICK_SECONDS=5,
                        OKR_LEASE_SECONDS=int(20 * speed),
                        OKR_LOG_LEVEL="WARNING")
    engine = make_engine(url)
    container = Container(settings=settings, engine=engine,
                          session_factory=make_session_factory(engine))
    client = make_client(settings, "xoxb-soak")
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    stop = runner.start(container, client_for=lambda _ws: client, clock=lambda: START + (
        timedelta(seconds=(time.time() - t0) * speed)))
    sampler = Sampler(engine)
    stop.loop._once = sampler.after(stop.loop._once)  # type: ignore[method-assign]
    while not stop_event.wait(60):
        sampler.due.set()
    stop()
    sampler.take()  # at the end, the last tick over
    grown = [] if len(sampler.snapshots) < 2 else [
        f"{st.size_diff / 1024:+.0f} KiB {st.traceback}" for st in sorted(
            sampler.snapshots[-1].compare_to(sampler.snapshots[0], "lineno"),
            key=lambda st: -st.size_diff)[:8]]
    if dump := os.environ.get("SOAK_TRACE_DUMP"):
        for i, snap in enumerate(sampler.snapshots):
            snap.dump(f"{dump}.{os.getpid()}.{i}")
    print(json.dumps({"ticks": stop.loop.ticks, "failures": stop.loop.failures,
                      "samples": sampler.samples, "grown": grown}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workspaces", type=int, default=4)
    parser.add_argument("--people", type=int, default=300, help="people per workspace")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds a second")
    parser.add_argument("--p429", type=float, default=0.03, help="share of posts answered 429")
    parser.add_argument("--p5xx", type=float, default=0.02, help="share answered 5xx")
    parser.add_argument("--drain", type=float, default=30.0, help="last seconds without faults")
    parser.add_argument("--trace", action="store_true",
                        help="report where each replica's Python memory grew (slower)")
    parser.add_argument("--replica", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica:
        replica(args.replica, args.api_url, args.t0, args.speed, args.trace)
        return 0
    seconds = args.minutes * 60
    with FlakySlack(args.p429, args.p5xx) as fake, database(False) as engine:
        build(engine, args.workspaces, args.people, int(seconds * args.speed / 60))
        url = engine.url.render_as_string(hide_password=False)
        t0 = time.time()
        procs = [subprocess.Popen(
            [sys.executable, __file__, "--replica", url, "--api-url", fake.api_url, "--t0",
             repr(t0), "--speed", str(args.speed), *(["--trace"] if args.trace else [])],
            stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
        rss: list[list[int]] = [[] for _ in procs]
        first: list[int] = [0, 0]
        while time.time() - t0 < seconds:
            time.sleep(5)
            for i, p in enumerate(procs):
                rss[i].append(rss_kb(p.pid))
                if not first[i] and time.time() - t0 >= 60:
                    first[i] = rss[i][-1]
            if time.time() - t0 >= seconds - args.drain:
                fake.faulty = False
        end_sim = START + timedelta(seconds=(time.time() - t0) * args.speed)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        stats = [json.loads((p.communicate(timeout=120)[0] or "{}").strip().splitlines()[-1])
                 for p in procs]
        return report(engine, fake, end_sim, args, stats, rss, first)


def report(engine: Engine, fake: FlakySlack, end_sim: datetime, args: argparse.Namespace,
           stats: list[dict[str, Any]], rss: list[list[int]], first: list[int]) -> int:
    with engine.connect() as conn:
        states = Counter(dict(conn.execute(select(Delivery.state, func.count())
                                           .group_by(Delivery.state)).all()))
        rows = conn.execute(select(Delivery.id, Delivery.state, Delivery.due_at)).all()
        by_worker = dict(conn.execute(select(Delivery.claimed_by, func.count()).where(
            Delivery.state == "sent").group_by(Delivery.claimed_by)).all())
    stored: Counter[tuple[Any, Any]] = Counter()
    for msg in list(fake.messages.values()):
        meta = (msg.get("metadata") or {}).get("event_payload") or {}
        if meta.get("delivery") is not None:
            stored[(meta["delivery"], meta.get("part", 0))] += 1
    dupes = sum(n - 1 for n in stored.values() if n > 1)
    settle = end_sim - timedelta(seconds=args.drain * args.speed / 2)
    unsent = [r.id for r in rows if r.state in ("pending", "sending", "unknown", "missed")
              and r.due_at < settle]
    no_post = [r.id for r in rows if r.state == "sent" and not stored.get((r.id, 0))]
    print(f"soak: {args.minutes:g} min at {args.speed:g}x ({args.workspaces} workspaces x "
          f"{args.people} people, 2 replicas); load {os.getloadavg()[0]:.2f}")
    for i, s in enumerate(stats):
        print(f"  replica {i}: {s.get('ticks')} ticks, {s.get('failures')} failed; RSS "
              f"{first[i] / 1024:.1f} MB after 1 min, {rss[i][-1] / 1024:.1f} MB at the end, "
              f"peak {max(rss[i]) / 1024:.1f} MB; each minute: "
              + ", ".join(f"{kb / 1024:.1f}" for kb in rss[i][11::12]))
        samples = s.get("samples") or []
        for line in s.get("grown") or []:
            print(f"    grew since minute 1: {line}")
        for key in (samples[0] if samples else {}):
            values = [m.get(key, 0) for m in samples]
            print(f"    {key:>12}: " + " ".join(
                f"{v:7.1f}" if isinstance(v, float) else f"{v:7,}" for v in values))
    flat = flatness(stats, rss)
    calls = sum(1 for c in fake.calls if c.method == "chat.postMessage")
    print(f"injected: {dict(fake.injected)}; chat.postMessage calls {calls:,}, messages "
          f"posted {sum(stored.values()):,}")
    late = sum(1 for r in rows if r.state == "pending" and r.due_at >= settle)
    print(f"rows: {dict(states)} ({late} pending fell due in the last "
          f"{args.drain / 2:g} s); sent by {by_worker}")
    print(f"duplicates: {dupes}; lost: {len(unsent)} due before the drain and not sent (lost,"
          f" or a backlog the replicas did not catch up) + {len(no_post)} recorded sent "
          f"without a post")
    return 0 if dupes == 0 and not unsent and not no_post and flat else 1


def flatness(stats: list[dict[str, Any]], rss: list[list[int]]) -> bool:
    """Prints each replica's growth after the warm-up; True if it is flat (see the module's
    docstring)."""
    flat = True
    for i, s in enumerate(stats):
        samples = s.get("samples") or []
        if len(samples) <= WARM_UP or len(rss[i]) < WARM_UP * 12:
            print(f"  replica {i}: too short a run to tell whether memory is flat "
                  f"(the warm-up is {WARM_UP} min)")
            return False
        grew = (rss[i][-1] - rss[i][WARM_UP * 12 - 1]) / 1024
        held = [m.get("py_used", 0) + m.get("c_used", 0) for m in (samples[WARM_UP - 1],
                                                                    samples[-1])]
        ok = grew <= FLAT_RSS_MB and held[1] - held[0] <= FLAT_USED_MB
        flat &= ok
        print(f"  replica {i}: from minute {WARM_UP} to the end RSS {grew:+.1f} MB (at most "
              f"{FLAT_RSS_MB:g}), held by Python {held[1] - held[0]:+.1f} MB (at most "
              f"{FLAT_USED_MB:g}; {held[0]:.1f} MB then): {'flat' if ok else 'GROWS'}")
    return flat


if __name__ == "__main__":
    sys.exit(main())
