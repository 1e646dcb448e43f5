"""Benchmark: load a 100,000-KR organisation from PostgreSQL and score it.

Builds the scoring benchmark's synthetic forest (``bench.bench_rollup.synthetic_forest``:
20,000 objectives four levels deep, 5 KRs each, mixed types and rollup modes), writes it to
a fresh PostgreSQL database in bulk (objectives, KRs, issue links, two check-ins per measured
KR), then times ``app.services.okrs.cycle_report`` (the read model every view uses: a handful
of queries, then pure scoring). Target: under 1.5 s. Also times a full ``okr export`` gather
with check-in history, for reference. Prints this process's CPU time and the load with it.

    .venv/bin/python bench/bench_rollup_pg.py [--objectives N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, bindparam, insert, text, update

from app.config import ScoringSettings
from app.db import make_engine, make_session_factory
from app.domain import KRType, ObjectiveFacts
from app.migrate import upgrade
from app.models import Checkin, Cycle, IssueLink, KeyResult, Objective, Person, Team, Workspace
from app.services.data import export as exports
from app.services.okrs import report as okrs
from bench.bench_rollup import synthetic_forest
from tests.dbutil import fresh_postgres_database

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
TODAY = date(2026, 3, 16)
_MEASURED = {KRType.INCREASE, KRType.DECREASE, KRType.ABOVE, KRType.BELOW, KRType.PERCENT,
             KRType.MILESTONE}


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(insert(model.__table__), chunk)


def load(conn: Connection, forest: Sequence[ObjectiveFacts]) -> dict[str, int]:
    """Write the forest in bulk with explicit ids; returns row counts."""
    _insert(conn, Workspace, [{"id": 1, "name": "bench", "fiscal_year_start_month": 2,
                               "timezone": "UTC", "timeline_preset": "none",
                               "holiday_dates": [], "created_at": NOW}])
    _insert(conn, Cycle, [{"id": 1, "workspace_id": 1, "name": "FY27-Q1",
                           "start_date": date(2026, 2, 1), "end_date": date(2026, 4, 30),
                           "phase": "active"}])
    people = [{"id": i + 1, "workspace_id": 1, "slack_id": f"U{i:07d}", "name": f"Person {i}",
               "tz": "UTC", "active": True, "is_admin": False, "created_at": NOW}
              for i in range(1000)]
    _insert(conn, Person, people)
    _insert(conn, Team, [{"id": t + 1, "workspace_id": 1, "key": f"team-{t}",
                          "name": f"Team {t}", "kind": "team"} for t in range(100)])
    obj_id = {o.id: n + 1 for n, o in enumerate(forest)}
    kr_id: dict[str, int] = {}
    for o in forest:
        for kr in o.key_results:
            kr_id[kr.id] = len(kr_id) + 1
    parent: dict[str, str] = {child: o.id for o in forest for child in o.children}
    first_kr = {o.id: o.key_results[0] for o in forest if o.key_results}
    objectives, krs, links, checkins = [], [], [], []
    for n, o in enumerate(forest):
        up = parent.get(o.id)
        up_kr = first_kr.get(up) if up else None
        objectives.append({
            "id": obj_id[o.id], "workspace_id": 1, "key": o.id, "cycle_id": 1,
            "team_id": n % 100 + 1, "owner_id": n % 1000 + 1, "title": f"Objective {o.id}",
            "aligned_objective_id": obj_id[up] if up and not (
                up_kr and up_kr.kr_type == KRType.CHILDREN) else None,
            "aligned_kr_id": kr_id[up_kr.id] if up_kr and up_kr.kr_type == KRType.CHILDREN
            else None,
            "visibility": "public", "commitment": "committed", "is_development": False,
            "rollup_mode": o.rollup_mode.value, "is_draft": False, "position": n,
            "created_at": NOW, "updated_at": NOW})
        for p, kr in enumerate(o.key_results):
            measured = kr.kr_type in _MEASURED and kr.current is not None
            current = (1.0 if kr.current and kr.current > 50 else 0.0) \
                if kr.kr_type == KRType.MILESTONE else kr.current
            krs.append({
                "id": kr_id[kr.id], "workspace_id": 1, "key": kr.id, "objective_id": obj_id[o.id],
                "title": f"KR {kr.id} from 10 to 50", "kr_type": kr.kr_type.value,
                "start_value": kr.start, "target_value": kr.target,
                "current_value": current if measured else None,
                "manual_score": kr.manual_score, "unit": None, "weight": kr.weight,
                "owner_id": (n + p) % 1000 + 1,
                "declared_status": kr.declared_status.value if kr.declared_status else None,
                "state": kr.state.value, "last_checkin_at": NOW - timedelta(days=p * 5),
                "position": p, "created_at": NOW, "updated_at": NOW})
            for i, issue in enumerate(kr.issues):
                links.append({"workspace_id": 1, "kr_id": kr_id[kr.id],
                              "url": f"https://gitlab.com/acme/web/-/issues/{len(links)}",
                              "provider": "gitlab", "host": "gitlab.com", "project": "acme/web",
                              "kind": "issue", "number": len(links) + i, "weight": 1.0,
                              "closed": issue.closed, "state": "closed" if issue.closed
                              else "open", "created_at": NOW})
            if measured:
                for back in (14, 7):
                    checkins.append({"workspace_id": 1, "kr_id": kr_id[kr.id],
                                     "author_id": (n + p) % 1000 + 1,
                                     "at": NOW - timedelta(days=back + p), "value": current,
                                     "score": 0.5, "status": None, "note": "steady",
                                     "source": "cli"})
    # objectives.aligned_kr_id and key_results.objective_id reference each other: write the
    # alignment to KRs once both tables are filled.
    to_kr = [{"oid": o["id"], "kid": o.pop("aligned_kr_id")} for o in objectives]
    for o in objectives:
        o["aligned_kr_id"] = None
    _insert(conn, Objective, objectives)
    _insert(conn, KeyResult, krs)
    table = Objective.__table__
    stmt = update(table).where(table.c.id == bindparam("oid")).values(
        aligned_kr_id=bindparam("kid"))
    for chunk in _chunks([r for r in to_kr if r["kid"] is not None]):
        conn.execute(stmt, chunk)
    _insert(conn, IssueLink, links)
    _insert(conn, Checkin, checkins)
    return {"objectives": len(objectives), "key_results": len(krs), "issue_links": len(links),
            "checkins": len(checkins)}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objectives", type=int, default=20_000)
    ap.add_argument("--krs", type=int, default=5, help="KRs per objective")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    forest = synthetic_forest(args.objectives, args.krs, 4)
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            started = time.perf_counter()
            with engine.begin() as conn:
                counts = load(conn, forest)
            # A server process reads the cycle from the database, not next to a generator's
            # objects: freed here, they would leave the heap fragmented and every read slower.
            del forest
            gc.collect()
            # As a long-lived database would be: statistics and visibility maps up to date.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            print(f"loaded {counts} in {time.perf_counter() - started:.1f} s")
            factory = make_session_factory(engine)
            settings = ScoringSettings()
            times, cpu = [], []
            for _ in range(args.repeat):
                # Each read starts as a server's does, without the previous read's 100,000
                # views still alive: holding two reports makes the next read 15-20% slower
                # (memory, not work).
                report = None
                with factory() as session:
                    cycle = session.get(Cycle, 1)
                    assert cycle is not None
                    t0, c0 = time.perf_counter(), time.process_time()
                    report = okrs.cycle_report(session=session, workspace_id=1, cycle=cycle,
                                               today=TODAY, now=NOW, settings=settings)
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
            assert report is not None
            krs = sum(len(o.key_results) for o in report.objectives)
            # CPU time of this process (queries excluded) helps read figures on a busy machine.
            print(f"cycle_report: {len(report.objectives)} objectives, {krs} KRs scored; "
                  f"best {min(times):.2f} s, median {statistics.median(times):.2f} s "
                  f"(our CPU {min(cpu):.2f} s; target < 1.5 s)  load "
                  + " ".join(f"{v:.2f}" for v in os.getloadavg()))
            with factory() as session:
                ws = session.get(Workspace, 1)
                assert ws is not None
                t0 = time.perf_counter()
                data = exports.gather(session=session, workspace=ws, now=NOW,
                                      settings=settings)
                gathered = time.perf_counter() - t0
                t1 = time.perf_counter()
                size = len(exports.to_json(data))
                print(f"export gather (with {counts['checkins']} check-ins) {gathered:.2f} s, "
                      f"JSON {size / 1e6:.0f} MB in {time.perf_counter() - t1:.2f} s")
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
