"""Benchmark: 10,000 GitLab and GitHub webhook deliveries replayed against ``okr serve``.

Creates a PostgreSQL database of its own, links 1,800 issues (half GitLab, half GitHub) to 180
``issues`` KRs, starts ``okr serve --no-scheduler`` (gunicorn) on a free loopback port with a
local fake Slack for its start-up check, and replays deliveries with a bounded thread pool:

* every issue gets 5 state changes in order (close, reopen, close, reopen, close), each a
  delivery of its own: 9,000 deliveries that must each move a KR once;
* 1,000 redeliveries of those (same delivery id): 500 right after the original, 500 sent
  twice at the same moment from two threads; each must be applied exactly once.

Then it checks the database: exactly 9,000 check-ins with source=issues, 9,000 delivery ids,
every link closed, every KR at 1.0; and prints latency percentiles. Target: p99 < 50 ms.

    .venv/bin/python -m bench.bench_webhooks [--issues 1800] [--concurrency 4] [--workers 2]
        [--threads 4]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, insert, select

from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.models import (
    Checkin,
    Cycle,
    IssueLink,
    KeyResult,
    Objective,
    Person,
    WebhookDelivery,
    Workspace,
)
from tests.dbutil import fresh_database
from tests.fakeslack import FakeSlack

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GL_SECRET, GH_SECRET = "bench-gitlab-secret", "bench-github-secret"
STEPS = ("closed", "open", "closed", "open", "closed")
LINKS_PER_KR = 10


@dataclass(frozen=True)
class Delivery:
    provider: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, outcome: str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[outcome] += 1


def seed(url: str, issues: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as s:
        ws = Workspace(name="bench", created_at=NOW, holiday_dates=[])
        s.add(ws)
        s.flush()
        person = Person(workspace_id=ws.id, slack_id="U0BENCH", name="Bench", created_at=NOW)
        cycle = Cycle(workspace_id=ws.id, name="FY27-Q1", start_date=date(2026, 2, 1),
                      end_date=date(2026, 4, 30), phase="active")
        s.add_all([person, cycle])
        s.flush()
        obj = Objective(workspace_id=ws.id, key="bench", cycle_id=cycle.id, title="Bench",
                        owner_id=person.id, created_at=NOW, updated_at=NOW)
        s.add(obj)
        s.flush()
        n_krs = (issues + LINKS_PER_KR - 1) // LINKS_PER_KR
        s.execute(insert(KeyResult), [
            {"workspace_id": ws.id, "key": f"kr{k}", "objective_id": obj.id,
             "title": f"Bugs {k}", "kr_type": "issues", "owner_id": person.id, "weight": 1.0,
             "position": k, "state": "active", "created_at": NOW, "updated_at": NOW}
            for k in range(n_krs)])
        kr_ids = dict(s.execute(select(KeyResult.key, KeyResult.id)).tuples().all())
        rows = []
        for i in range(issues):
            provider, host = ("gitlab", "gitlab.com") if i % 2 == 0 else ("github", "github.com")
            project = f"acme/repo{i % 7}"
            url = (f"https://gitlab.com/{project}/-/issues/{i + 1}" if provider == "gitlab"
                   else f"https://github.com/{project}/issues/{i + 1}")
            rows.append({"workspace_id": ws.id, "kr_id": kr_ids[f"kr{i // LINKS_PER_KR}"],
                         "url": url, "provider": provider, "host": host, "project": project,
                         "kind": "issue", "number": i + 1, "weight": 1.0, "closed": False,
                         "state": "open", "created_at": NOW})
        s.execute(insert(IssueLink), rows)
    engine.dispose()


def delivery(i: int, step: int) -> Delivery:
    state = STEPS[step]
    updated = (NOW + timedelta(minutes=step)).isoformat().replace("+00:00", "Z")
    project = f"acme/repo{i % 7}"
    if i % 2 == 0:
        body = json.dumps({
            "object_kind": "issue",
            "project": {"path_with_namespace": project, "web_url": f"https://gitlab.com/{project}"},
            "object_attributes": {"iid": i + 1,
                                  "state": "closed" if state == "closed" else "opened",
                                  "updated_at": updated, "title": f"Issue {i}"}}).encode()
        return Delivery("gitlab", body, {"Content-Type": "application/json",
                                         "X-Gitlab-Event": "Issue Hook",
                                         "X-Gitlab-Token": GL_SECRET,
                                         "X-Gitlab-Event-UUID": str(uuid.uuid4())})
    body = json.dumps({
        "action": "closed" if state == "closed" else "reopened",
        "issue": {"number": i + 1, "state": state, "updated_at": updated, "title": f"Issue {i}"},
        "repository": {"full_name": project, "html_url": f"https://github.com/{project}"},
    }).encode()
    sig = hmac.new(GH_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return Delivery("github", body, {"Content-Type": "application/json",
                                     "X-GitHub-Event": "issues",
                                     "X-GitHub-Delivery": str(uuid.uuid4()),
                                     "X-Hub-Signature-256": f"sha256={sig}"})


class Client:
    """One keep-alive connection per thread, with the standard library's http.client: the
    client shares the machine's two cores with the server and must stay light."""

    def __init__(self, port: int, results: Results) -> None:
        self.port = port
        self.results = results
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                timeout=30)
        return conn

    def send(self, d: Delivery) -> str:
        start = time.perf_counter()
        try:
            conn = self._conn()
            conn.request("POST", f"/webhooks/{d.provider}", body=d.body, headers=d.headers)
            response = conn.getresponse()
            status, text = response.status, response.read()
        except (OSError, http.client.HTTPException):
            # The server closed an idle keep-alive connection: reconnect once.
            self.local.conn = None
            conn = self._conn()
            conn.request("POST", f"/webhooks/{d.provider}", body=d.body, headers=d.headers)
            response = conn.getresponse()
            status, text = response.status, response.read()
        elapsed = time.perf_counter() - start
        if status < 300:
            outcome = str(json.loads(text).get("status", "?"))
        else:
            outcome = f"http {status}"
            with self.results.lock:
                if len(self.results.errors) < 5:
                    self.results.errors.append(f"{outcome} {text[:200]!r}")
        self.results.add(elapsed, outcome)
        return outcome


def chain(client: Client, i: int, echo: int | None, twin: int | None) -> None:
    """One issue's deliveries in order; ``echo`` is resent right after, ``twin`` is sent twice
    at once (the second copy from a thread of its own)."""
    for step in range(len(STEPS)):
        d = delivery(i, step)
        if step == twin:
            barrier = threading.Barrier(2)

            def racing(copy: Delivery = d, b: threading.Barrier = barrier) -> str:
                b.wait()
                return client.send(copy)

            other = threading.Thread(target=racing)
            other.start()
            racing()
            other.join()
        else:
            client.send(d)
        if step == echo:
            client.send(d)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, slack: FakeSlack, port: int, threads: int,
          workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "OKR_GITLAB_WEBHOOK_SECRET": GL_SECRET,
           "OKR_GITHUB_WEBHOOK_SECRET": GH_SECRET, "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": "bench", "SLACK_API_URL": slack.api_url,
           "OKR_WEB_THREADS": str(threads), "OKR_WEB_WORKERS": str(workers),
           "OKR_LOG_LEVEL": "WARNING"}
    okr = Path(sys.executable).with_name("okr")
    proc = subprocess.Popen([str(okr), "serve", "--no-scheduler", "--host", "127.0.0.1",
                             "--port", str(port)], env=env)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("okr serve did not come up")


def check(url: str, issues: int) -> dict[str, Any]:
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as s:
        out = {
            "checkins": s.scalar(select(func.count()).select_from(Checkin)
                                 .where(Checkin.source == "issues")),
            "deliveries": s.scalar(select(func.count()).select_from(WebhookDelivery)),
            "open_links": s.scalar(select(func.count()).select_from(IssueLink)
                                   .where(IssueLink.closed.is_(False))),
            "links": s.scalar(select(func.count()).select_from(IssueLink)),
        }
        # Every check-in moves its KR by exactly one link's share from the one before; a
        # score computed on stale links would break the chain.
        history: dict[int, list[float]] = {}
        for kr_id, score in s.execute(select(Checkin.kr_id, Checkin.score)
                                      .order_by(Checkin.kr_id, Checkin.id)):
            history.setdefault(kr_id, []).append(float(score))
        broken = 0
        for scores in history.values():
            steps = [b - a for a, b in zip([0.0, *scores], scores, strict=False)]
            broken += sum(1 for d in steps if abs(abs(d) - 1 / LINKS_PER_KR) > 1e-9)
            broken += abs(scores[-1] - 1.0) > 1e-9
        out["broken_history"] = broken
    engine.dispose()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1800)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn worker processes (OKR_WEB_WORKERS; one per core)")
    args = parser.parse_args()
    rng = random.Random(5)
    picks = rng.sample(range(args.issues), min(args.issues, 1000))
    echoes = {i: rng.randrange(len(STEPS)) for i in picks[:500]}
    twins = {i: rng.randrange(len(STEPS)) for i in picks[500:]}
    expected_changes = args.issues * len(STEPS)
    with fresh_database("postgresql", Path("/tmp")) as url, FakeSlack() as slack:
        t0 = time.perf_counter()
        seed(url, args.issues)
        print(f"seeded {args.issues} linked issues in {time.perf_counter() - t0:.1f}s")
        load = os.getloadavg()
        port = free_port()
        proc = serve(url, slack, port, args.threads, args.workers)
        try:
            results = Results()
            client = Client(port, results)
            order = list(range(args.issues))
            rng.shuffle(order)
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                futures = [pool.submit(chain, client, i, echoes.get(i), twins.get(i))
                           for i in order]
                for f in futures:
                    f.result()
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        found = check(url, args.issues)
    lat = results.latencies
    print(f"machine              {os.cpu_count()} cores, load average before/after "
          f"{load[0]:.2f}/{os.getloadavg()[0]:.2f}")
    print(f"deliveries sent      {len(lat)} in {wall:.1f}s ({len(lat) / wall:.0f}/s), "
          f"client concurrency {args.concurrency}, gunicorn {args.workers} worker(s) x "
          f"{args.threads} threads")
    print(f"latency ms           p50 {pct(lat, 0.50):.1f}  p90 {pct(lat, 0.90):.1f}  "
          f"p99 {pct(lat, 0.99):.1f}  max {max(lat) * 1000:.1f}  mean "
          f"{statistics.mean(lat) * 1000:.1f}")
    print(f"outcomes             {dict(results.statuses)}")
    for error in results.errors:
        print(f"  e.g. {error}")
    print(f"state changes        expected {expected_changes}, check-ins {found['checkins']}, "
          f"delivery ids {found['deliveries']}, links still open {found['open_links']} "
          f"of {found['links']}, inconsistent check-in scores {found['broken_history']}")
    ok = (found["checkins"] == expected_changes and found["deliveries"] == expected_changes
          and found["open_links"] == 0 and found["broken_history"] == 0
          and results.statuses["applied"] == expected_changes
          and pct(lat, 0.99) < 50)
    print("RESULT", "ok" if ok else "NOT OK (p99 >= 50 ms or lost/doubled changes)")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
