"""Benchmark: ``okr import`` of a 10,000-objective file into a fresh PostgreSQL database.

Generates the file (10,000 objectives with 3 KRs each, aligned four levels deep, plus people,
teams, links and current values), creates a database of its own, imports through the same
service function the CLI uses, then imports again (a no-op), then exports it as ``okr export
--format json`` does (gather and JSON text), and prints the figures with this process's CPU
time (a busy machine stretches the wall-clock figures, less so the CPU ones) and the load.
Targets: the first import under 5 s, the export under 2 s.

    .venv/bin/python bench/bench_import.py [--objectives N] [--cli] [--sqlite]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from app.config import ScoringSettings
from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.services.data import export as exports
from app.services.data.imports import load
from app.services.data.imports.apply import ImportSummary
from app.services.tenancy import workspaces
from tests.dbutil import fresh_database

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TZS = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"]


def generate(objectives: int, seed: int = 7) -> dict[str, Any]:
    """A synthetic organisation: a company, departments, teams, people and a 4-level cascade."""
    rng = random.Random(seed)
    n_people = max(20, objectives // 20)
    people = [{"slack_id": f"U{i:07d}", "name": f"Person {i}", "tz": TZS[i % len(TZS)]}
              for i in range(n_people)]
    teams: list[dict[str, Any]] = [{"id": "company", "name": "Company", "kind": "company",
                                    "lead": people[0]["slack_id"]}]
    for d in range(5):
        teams.append({"id": f"dept-{d}", "name": f"Department {d}", "kind": "department",
                      "parent": "company", "lead": people[d + 1]["slack_id"]})
    for t in range(40):
        members = [people[(t * 7 + k) % n_people]["slack_id"] for k in range(6)]
        teams.append({"id": f"team-{t}", "name": f"Team {t}", "parent": f"dept-{t % 5}",
                      "lead": members[0], "members": sorted(set(members)),
                      "channel": f"C{t:07d}",
                      "checkin": {"cadence": "weekly", "day": "mon", "time": "10:00"}})
    # Levels: 20 company, 400 department, 2,000 team, the rest individual objectives.
    sizes = [min(20, objectives), min(400, objectives // 25), min(2000, objectives // 5)]
    levels: list[list[str]] = []
    objs: list[dict[str, Any]] = []
    for level in range(4):
        count = sizes[level] if level < 3 else objectives - sum(sizes)
        ids = []
        for _ in range(max(count, 0)):
            oid = f"o{len(objs)}"
            obj: dict[str, Any] = {
                "id": oid, "cycle": "FY27-Q1",
                "team": "company" if level == 0 else f"dept-{rng.randrange(5)}" if level == 1
                else f"team-{rng.randrange(40)}",
                "owner": rng.choice(people)["slack_id"],
                "title": f"Objective {oid} to grow the business in a measurable way",
                "key_results": [],
            }
            if levels:
                obj["aligned_to"] = rng.choice(levels[-1])
            for k in range(3):
                kid = f"{oid}-k{k}"
                kind = ("increase", "decrease", "milestone")[k]
                kr: dict[str, Any] = {"id": kid, "title": f"KR {kid} from 10 to 50 customers",
                                      "owner": rng.choice(people)["slack_id"], "type": kind}
                if kind == "increase":
                    kr.update(start=10, target=50, current=rng.randrange(10, 50))
                elif kind == "decrease":
                    kr.update(start=14, target=5, unit="days", weight=2)
                if rng.random() < 0.05:
                    kr = {"id": kid, "title": f"Close 3 issues for {kid}", "type": "issues",
                          "links": [f"https://gitlab.com/acme/web/-/issues/{len(objs) * 3 + k}"]}
                obj["key_results"].append(kr)
            objs.append(obj)
            ids.append(oid)
        levels.append(ids)
    return {
        "settings": {"fiscal_year_start_month": 2, "timezone": "Europe/Berlin"},
        "cycles": [{"name": "FY27-Q1", "start": "2026-02-01", "end": "2026-04-30"}],
        "people": people, "teams": teams, "objectives": objs,
    }


def run_import(factory: Any, text: str) -> tuple[float, float, float, ImportSummary]:
    """Parse, then apply and commit: wall seconds of each, this process's CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    parsed = load.parse(text)
    parse_s = time.perf_counter() - started
    with unit_of_work(factory) as session:
        ws = workspaces.default_workspace(session=session, now=NOW)
        summary = load.import_text(session=session, workspace=ws, text=text, now=NOW,
                                      parsed=parsed)
    return (parse_s, time.perf_counter() - started - parse_s, time.process_time() - cpu,
            summary)


def run_export(factory: Any) -> tuple[float, float, float, int]:
    """``okr export --format json``: gather, JSON text. Wall seconds of each, CPU, bytes."""
    started, cpu = time.perf_counter(), time.process_time()
    with factory() as session:
        ws = workspaces.default_workspace(session=session, now=NOW)
        data = exports.gather(session=session, workspace=ws, now=NOW,
                              settings=ScoringSettings())
        gathered = time.perf_counter() - started
        size = len(exports.to_json(data).encode())
    return gathered, time.perf_counter() - started - gathered, time.process_time() - cpu, size


def load_average() -> str:
    return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objectives", type=int, default=10_000)
    ap.add_argument("--cli", action="store_true", help="also time `okr import` in a subprocess")
    ap.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "org.yaml"
        t0 = time.perf_counter()
        doc = generate(args.objectives)
        path.write_text(yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                                  sort_keys=False))
        krs = sum(len(o["key_results"]) for o in doc["objectives"])
        print(f"file: {path.stat().st_size / 1e6:.1f} MB, {len(doc['objectives'])} objectives, "
              f"{krs} KRs, {len(doc['people'])} people, {len(doc['teams'])} teams "
              f"(generated in {time.perf_counter() - t0:.1f} s)")
        # `okr import` starts with the file, not with a generator's objects: freed here, they
        # would leave the heap fragmented and the parse a third slower than the CLI's.
        del doc
        gc.collect()
        text = path.read_text()
        with fresh_database("sqlite" if args.sqlite else "postgresql", Path(tmp)) as url:
            engine = make_engine(url)
            upgrade(engine)
            factory = make_session_factory(engine)
            print(load_average())
            parse_s, apply_s, cpu, summary = run_import(factory, text)
            print(f"import:    parse {parse_s:6.2f} s  apply {apply_s:6.2f} s  "
                  f"total {parse_s + apply_s:6.2f} s  (our CPU {cpu:.2f} s; target < 5 s)  "
                  f"{load_average()}")
            print("           " + "\n           ".join(summary.lines()))
            parse2, apply2, cpu2, again = run_import(factory, text)
            print(f"re-import: parse {parse2:6.2f} s  apply {apply2:6.2f} s  "
                  f"total {parse2 + apply2:6.2f} s  (our CPU {cpu2:.2f} s)  "
                  f"changed={again.changed}")
            for _ in range(2):  # the second one finds the database's caches warm
                gathered, dumped, cpu3, size = run_export(factory)
                print(f"export:    gather {gathered:5.2f} s  JSON {dumped:5.2f} s  "
                      f"total {gathered + dumped:5.2f} s  (our CPU {cpu3:.2f} s; "
                      f"{size / 1e6:.0f} MB; target < 2 s)  {load_average()}")
            engine.dispose()
            if args.cli:
                import subprocess

                env = {**os.environ, "DATABASE_URL": url}
                t1 = time.perf_counter()
                entry = "import sys; from app.cli import main; sys.exit(main())"
                subprocess.run([sys.executable, "-c", entry, "--log-level", "WARNING", "import",
                                str(path)], env=env, check=True, stdout=subprocess.DEVNULL)
                print(f"okr import (CLI, no-op re-import): {time.perf_counter() - t1:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
