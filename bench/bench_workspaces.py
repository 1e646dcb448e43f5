"""Benchmark: one tick's due computation over 1,000 workspaces x 20 people, by one scheduler
process and by three replicas ticking at once.

A fresh PostgreSQL database holds W workspaces over a dozen time zones, each with P people
(one KR each, in one running cycle) and a team with a channel. At an instant where many
prompts are due, it times, each in a process of its own (as replicas are):

* one replica: a whole enqueue pass (its work leases taken, then every workspace's due
  computation and inserts, ``tick(..., deliver=False)``), target < 2 s;
* three replicas started together (each counted live first, as running replicas are): each
  takes its share of the leases and enqueues only those workspaces. Target: the database
  time of their three passes together at most 1.3x the one replica's (every workspace's due
  computation is done once, not three times).

Database time is the server's, measured two ways: ``pg_stat_database.active_time`` of the
benchmark's database (time its sessions spent executing statements) over the pass, and, when
the server runs on this machine, the CPU time of each replica's server process over its pass
(``/proc/<pid>/schedstat``). The target is judged on the CPU time when it is known: on a
shared two-core machine, ``active_time`` also counts the time a backend was ready to run and
waited for a CPU, which grows with the number of processes running at once (three replicas,
their three backends) rather than with the work done (schedstat shows that wait apart). Both
runs start from the same
database (vacuumed and analysed after the build and after the reset between them), and each
replica's connection is warmed first as a running replica's is (one batch's statements on a
few workspaces, rolled back): a new connection's first statements read the catalogue and
plan, once per process, which is not the pass's cost. Also shown: the statements each
replica sent and the time it spent waiting in the driver's ``execute`` (on a busy machine
that includes waiting for a CPU, on either side).

    .venv/bin/python bench/bench_workspaces.py [--workspaces 1000] [--people 20] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, delete, event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_session_factory
from app.models import (
    Cycle,
    Delivery,
    KeyResult,
    Objective,
    Person,
    SchedulerState,
    Team,
    TeamMember,
    Workspace,
)
from app.models.scheduling import SchedulerWorker, WorkLease
from bench.bench_tick import CREATED, ZONES, database
from scheduler.enqueue import enqueue_batch
from scheduler.jobs import tick
from scheduler.leases import WorkLeases, lease_seconds

NOW = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)  # Monday morning in Europe: many are due
TARGET_SECONDS = 2.0
TARGET_RATIO = 1.3


def build(engine: Engine, workspaces: int, people: int) -> None:
    """W workspaces of P people each, in bulk (explicit ids)."""
    ws_rows, cycles, persons, teams, members, objectives, krs = [], [], [], [], [], [], []
    for w in range(1, workspaces + 1):
        zone = ZONES[w % len(ZONES)]
        ws_rows.append({"id": w, "name": f"ws{w}", "slack_team_id": f"T{w:07d}",
                        "fiscal_year_start_month": 2, "timezone": zone,
                        "timeline_preset": "none", "holiday_dates": [], "created_at": CREATED})
        cycles.append({"id": w, "workspace_id": w, "name": "FY27-Q1",
                       "start_date": date(2026, 2, 1), "end_date": date(2026, 4, 30),
                       "phase": "active"})
        teams.append({"id": w, "workspace_id": w, "key": "team", "name": "Team", "kind": "team",
                      "channel_id": f"C{w:07d}", "lead_id": (w - 1) * people + 1})
        objectives.append({
            "id": w, "workspace_id": w, "key": "o1", "cycle_id": w, "team_id": w,
            "owner_id": (w - 1) * people + 1, "title": "Objective", "visibility": "public",
            "commitment": "committed", "is_development": False, "rollup_mode": "krs",
            "is_draft": False, "position": 0, "created_at": CREATED, "updated_at": CREATED})
        for i in range(people):
            pid = (w - 1) * people + i + 1
            persons.append({"id": pid, "workspace_id": w, "slack_id": f"U{pid:07d}",
                            "name": f"Person {pid}", "tz": ZONES[(w + i) % len(ZONES)],
                            "active": True, "is_admin": False, "created_at": CREATED})
            members.append({"workspace_id": w, "team_id": w, "person_id": pid})
            krs.append({"id": pid, "workspace_id": w, "key": f"kr{i}", "objective_id": w,
                        "title": f"KR {i}", "kr_type": "increase", "start_value": 0.0,
                        "target_value": 10.0, "weight": 1.0, "owner_id": pid,
                        "state": "active", "position": i, "created_at": CREATED,
                        "updated_at": CREATED})
    with engine.begin() as conn:
        for model, rows in ((Workspace, ws_rows), (Cycle, cycles), (Person, persons),
                            (Team, teams), (TeamMember, members), (Objective, objectives),
                            (KeyResult, krs)):
            conn.execute(insert(model.__table__), rows)


def reset(engine: Engine) -> None:
    """Back to before the first tick (nothing enqueued, no leases, no live process)."""
    with engine.begin() as conn:
        for model in (Delivery, SchedulerState, WorkLease, SchedulerWorker):
            conn.execute(delete(model))
    settle(engine)


def settle(engine: Engine) -> None:
    """Vacuum and analyse, so each run starts from the same database: planner statistics of
    the rows just built, no dead rows left by the run before (the second run would otherwise
    scan what the first deleted)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def warm(factory: sessionmaker[Session], settings: Settings) -> None:
    """Run one batch's statements on a few workspaces and roll them back: a running replica's
    connection has long read the catalogue and planned these statements, a new process's has
    not, and that start-up cost (paid once per process, three times with three replicas) is
    not the pass's."""
    with factory() as session:
        few = list(session.scalars(select(Workspace).order_by(Workspace.id).limit(5)))
        enqueue_batch(session, few, settings, NOW)
        session.rollback()


def backend_cpu(pids: set[int]) -> tuple[float, float] | None:
    """(seconds on a CPU, seconds waiting for one) of these server processes so far, from
    Linux's ``/proc/<pid>/schedstat``; None when the server is not a process of this machine
    (or the kernel keeps no such figures)."""
    cpu = wait = 0.0
    for pid in pids:
        try:
            on, queued, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
        except (OSError, ValueError):
            return None
        cpu, wait = cpu + int(on) / 1e9, wait + int(queued) / 1e9
    return cpu, wait


def replica(url: str, name: str) -> None:
    """One replica: counted live, then (on a line on stdin) one enqueue pass; prints JSON."""
    engine = make_engine(url)
    spent = [0.0, 0]
    pids: set[int] = set()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pids.add(int(cur.fetchone()[0]))

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, *_: Any) -> None:
        conn.info["t"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, *_: Any) -> None:
        spent[0] += time.perf_counter() - conn.info.pop("t", time.perf_counter())
        spent[1] += 1

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    factory = make_session_factory(engine)
    leases = WorkLeases(factory, name, ttl_seconds=lease_seconds(settings.tick_seconds))
    leases.register()
    warm(factory, settings)
    print("ready", flush=True)
    sys.stdin.readline()
    spent[:] = [0.0, 0]
    before = backend_cpu(pids)
    started = time.perf_counter()
    result = tick(factory, settings, NOW, client_for=lambda _ws: None, deliver=False,
                  worker_id=name, leases=leases)
    wall = time.perf_counter() - started
    after = backend_cpu(pids)  # a connection opened during the pass counts from its start
    cpu = None if before is None or after is None else \
        [after[0] - before[0], after[1] - before[1]]
    print(json.dumps({"name": name, "wall": wall, "db": spent[0], "statements": spent[1],
                      "workspaces": leases.total - result.elsewhere, "server_cpu": cpu,
                      "enqueued": sum(result.enqueued.values())}), flush=True)
    engine.dispose()


def active_ms(engine: Engine) -> float:
    """The server's time executing statements in this database so far (ms)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return float(conn.scalar(text(
            "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"))
            or 0.0)


def run(engine: Engine, n: int) -> tuple[list[dict[str, Any]], float]:
    """N replicas at once; what each did, and the server's database time (s) meanwhile."""
    url = engine.url.render_as_string(hide_password=False)
    procs = [subprocess.Popen([sys.executable, __file__, "--replica", url, "--name", f"r{i}"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for i in range(n)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    before = active_ms(engine)
    for p in procs:  # together
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    out = []
    for p in procs:
        stdout, _ = p.communicate(timeout=600)
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    time.sleep(1.0)  # the sessions' statistics reach the server's view when they end
    return out, (active_ms(engine) - before) / 1000


def show(label: str, results: list[dict[str, Any]]) -> None:
    for r in results:
        cpu = r["server_cpu"]
        server = f"; its server process {cpu[0]:.2f} s on a CPU, {cpu[1]:.2f} s waiting " \
            "for one" if cpu else ""
        print(f"  {label} {r['name']}: {r['workspaces']:,} workspaces, {r['enqueued']:,} rows "
              f"enqueued, {r['wall']:.2f} s; {r['statements']:,} statements, "
              f"{r['db']:.2f} s waiting in execute{server}")


def server_cpu(results: list[dict[str, Any]]) -> float | None:
    """The replicas' server processes' CPU time over the pass, added up (None: unknown)."""
    if any(r["server_cpu"] is None for r in results):
        return None
    return sum(r["server_cpu"][0] for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--people", type=int, default=20, help="people per workspace")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 workspaces")
    parser.add_argument("--replica", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica:
        replica(args.replica, args.name)
        return 0
    if args.quick:
        args.workspaces = 100
    with database(False) as engine:
        t0 = time.perf_counter()
        build(engine, args.workspaces, args.people)
        settle(engine)
        print(f"built {args.workspaces:,} workspaces x {args.people} people in "
              f"{time.perf_counter() - t0:.1f} s; load {os.getloadavg()[0]:.2f}")
        one, db_one = run(engine, 1)
        show("1 replica:", one)
        with engine.connect() as conn:
            rows_one = conn.scalar(select(func.count()).select_from(Delivery))
        reset(engine)
        many, db_many = run(engine, args.replicas)
        show(f"{args.replicas} replicas:", many)
        with engine.connect() as conn:
            rows_many = conn.scalar(select(func.count()).select_from(Delivery))
    st_one, st_many = one[0]["statements"], sum(r["statements"] for r in many)
    covered = sum(r["workspaces"] for r in many)
    print(f"one replica's tick: {one[0]['wall']:.2f} s (target < {TARGET_SECONDS:g} s)")
    cpu_one, cpu_many = server_cpu(one), server_cpu(many)
    print(f"{args.replicas} replicas: {covered:,} workspaces between them (of "
          f"{args.workspaces:,}); database time (active_time) {db_many:.2f} s = "
          f"{db_many / db_one:.2f}x one replica's {db_one:.2f} s; statements {st_many:,} = "
          f"{st_many / st_one:.2f}x; rows {rows_many:,} (one replica: {rows_one:,}); "
          f"load {os.getloadavg()[0]:.2f}")
    ratio = db_many / db_one
    if cpu_one and cpu_many is not None:
        ratio = cpu_many / cpu_one
        print(f"{args.replicas} replicas: server CPU time {cpu_many:.2f} s = {ratio:.2f}x one "
              f"replica's {cpu_one:.2f} s (target <= {TARGET_RATIO:g}x)")
    else:
        print(f"(server CPU time unknown: target <= {TARGET_RATIO:g}x on active_time)")
    good = one[0]["wall"] < TARGET_SECONDS and ratio <= TARGET_RATIO \
        and covered == args.workspaces and rows_many == rows_one
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
