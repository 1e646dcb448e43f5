"""Benchmark: one delivery pass rendering the channel digests of 500 teams on PostgreSQL.

Imports a generated organisation (500 teams under 10 departments, 4 objectives of 3 KRs per
team, 2,000 people, current values) into a fresh database through ``okr import``, adds
check-ins with notes and blockers for a third of the KRs, then renders one digest per team
with one ``scheduler.render.Renderer`` (what a worker's pass does before it posts: the
cycle report scored once for the pass, then per team its objectives, the last digest's
snapshot, notes since then and participation). Posting is left out: it is paced by Slack's
rate limits (see bench_delivery.py). Target: under 10 s for the 500 digests.

    .venv/bin/python bench/bench_digests.py [--teams 500]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml
from sqlalchemy import select

from app.config import Settings
from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.models import Checkin, Cycle, Delivery, KeyResult, Team
from app.services.data.bulk import bulk_insert
from app.services.data.imports import load
from app.services.tenancy import workspaces
from scheduler.render import Renderer
from tests.dbutil import fresh_postgres_database

NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def generate(teams: int, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)
    people = [{"slack_id": f"U{i:07d}", "name": f"Person {i}", "tz": "Europe/Berlin"}
              for i in range(teams * 4)]
    org: list[dict[str, Any]] = [{"id": "company", "name": "Company", "kind": "company",
                                  "lead": people[0]["slack_id"]}]
    org += [{"id": f"dept-{d}", "name": f"Department {d}", "kind": "department",
             "parent": "company", "lead": people[d + 1]["slack_id"]} for d in range(10)]
    objectives = []
    for t in range(teams):
        members = [people[(t * 4 + k) % len(people)]["slack_id"] for k in range(4)]
        org.append({"id": f"team-{t}", "name": f"Team {t}", "parent": f"dept-{t % 10}",
                    "lead": members[0], "members": members, "channel": f"C{t:07d}",
                    "digest": {"cadence": "weekly", "day": "mon", "time": "09:00"}})
        for o in range(4):
            oid = f"t{t}-o{o}"
            objectives.append({
                "id": oid, "cycle": "FY27-Q1", "team": f"team-{t}", "owner": members[o],
                "title": f"Objective {oid} of team {t}",
                "key_results": [{"id": f"{oid}-k{k}", "title": f"KR {k} of {oid}",
                                 "owner": rng.choice(members), "type": "increase",
                                 "start": 0, "target": 100, "current": rng.randrange(0, 90)}
                                for k in range(3)]})
    return {"settings": {"fiscal_year_start_month": 2, "timezone": "Europe/Berlin"},
            "cycles": [{"name": "FY27-Q1", "start": "2026-02-01", "end": "2026-04-30"}],
            "people": people, "teams": org, "objectives": objectives}


def add_notes(session: Any, workspace_id: int) -> int:
    """Check-ins with notes and blockers on every third KR, in the last week."""
    rows = []
    krs = session.execute(select(KeyResult.id, KeyResult.owner_id).where(
        KeyResult.workspace_id == workspace_id).order_by(KeyResult.id)).all()
    for n, (kr_id, owner_id) in enumerate(krs[::3]):
        rows.append({"workspace_id": workspace_id, "kr_id": kr_id, "author_id": owner_id,
                     "at": NOW - timedelta(days=1 + n % 6), "value": 50.0, "score": 0.5,
                     "note": f"Progress note {n}", "blockers": "Waiting on review"
                     if n % 4 == 0 else None, "source": "slack"})
    bulk_insert(session, Checkin, rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teams", type=int, default=500)
    args = ap.parse_args(argv)
    text = yaml.dump(generate(args.teams), Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     sort_keys=False)
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            started = time.perf_counter()
            with unit_of_work(factory) as session:
                ws = workspaces.default_workspace(session=session, now=NOW)
                load.import_text(session=session, workspace=ws, text=text, now=NOW)
                notes = add_notes(session, ws.id)
            print(f"seeded {args.teams} teams ({args.teams * 12} KRs, {notes} noted "
                  f"check-ins) in {time.perf_counter() - started:.1f} s")
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
            for _ in range(2):
                with factory() as session:
                    ws = workspaces.default_workspace(session=session, now=NOW)
                    cycle = session.scalars(select(Cycle)).one()
                    teams = list(session.scalars(select(Team).where(
                        Team.channel_id.isnot(None)).order_by(Team.id)))
                    renderer = Renderer(settings, NOW)
                    t0, c0 = time.perf_counter(), time.process_time()
                    sent = skipped = 0
                    for team in teams:
                        row = Delivery(workspace_id=ws.id, kind="digest", target=team.channel_id,
                                       occurrence=NOW.date().isoformat(), due_at=NOW,
                                       team_id=team.id, cycle_id=cycle.id)
                        out = renderer.render(session, row)
                        sent += bool(out.messages)
                        skipped += out.skip is not None
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                print(f"digests: {len(teams)} teams rendered in one pass ({sent} with messages, "
                      f"{skipped} skipped) in {wall:.2f} s (our CPU {cpu:.2f} s; target < 10 s)"
                      f"  load " + " ".join(f"{v:.2f}" for v in os.getloadavg()))
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
