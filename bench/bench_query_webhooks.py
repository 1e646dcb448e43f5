"""Benchmark: what a saved search costs on the webhook path.

On a PostgreSQL database of its own, one workspace with two ``issues`` KRs: ``bugs`` links
N GitLab issues by hand, ``bugs2`` follows the search ``gitlab acme/web labels=okr-q1``. Signed
GitLab issue webhooks (labels included, as GitLab sends them) go through the webhook
blueprint in process (Flask's test client: no network, the database round trips are what
is measured), in four rounds:

1. state changes of the hand-linked issues, before any search exists (the baseline);
2. N labelled issues entering the search (each adds a link and a check-in);
3. state changes of those N search items;
4. state changes of the hand-linked issues again, now that the project has a search.

It checks the KRs' link counts and prints p50 / p90 / p99 per round.

    .venv/bin/python -m bench.bench_query_webhooks [--issues 400]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from app.bootstrap import Container
from app.db import make_session_factory
from app.models import IssueLink, KeyResult
from app.services.links import attach, queries
from app.services.links.query_specs import from_mapping
from tests.dbutil import migrated_engine
from tests.fakeforge import FakeGitLab
from tests.fixtures.web import GITLAB_SECRET, flask_app, seed, settings

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _round(app: Flask, forge: FakeGitLab, numbers: Iterable[int]) -> list[float]:
    times: list[float] = []
    with app.test_client() as client:
        for n in numbers:
            item = forge.items[("acme/web", "issue", n)]
            item.state = "closed" if item.state == "opened" else "opened"
            item.updated_at = datetime.now(UTC)
            body, headers = forge.hook("acme/web", "issue", n)
            started = time.perf_counter()
            response = client.post("/webhooks/gitlab", data=body, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_json()
    return sorted(times)


def _line(label: str, times: list[float]) -> str:
    k = len(times)
    return (f"{label:<44} p50 {times[k // 2]:6.1f} ms  p90 {times[k * 9 // 10]:6.1f} ms  "
            f"p99 {times[min(k - 1, k * 99 // 100)]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=400)
    n = parser.parse_args().issues
    with tempfile.TemporaryDirectory() as tmp, migrated_engine("postgresql", Path(tmp)) as engine:
        factory = make_session_factory(engine)
        with factory() as s:
            org = seed(s, NOW, kr_types={"bugs": "issues", "bugs2": "issues"})
            for number in range(1, n + 1):
                attach.add(session=s, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                           url=f"https://gitlab.com/acme/web/-/issues/{number}", now=NOW,
                           actor_label="bench", gitlab_hosts=["gitlab.com"])
            s.commit()
        app = flask_app(Container(settings=settings(), engine=engine, session_factory=factory),
                        lambda: datetime.now(UTC))
        forge = FakeGitLab()  # not started: only its webhook builder is used
        forge.hook_secret = GITLAB_SECRET
        for number in range(1, 2 * n + 1):
            forge.add("acme/web", "issue", number, "opened",
                      labels=["okr-q1"] if number > n else ["bug"])
        hand, searched = range(1, n + 1), range(n + 1, 2 * n + 1)
        print(_line(f"{n} hand links, state changes (no search)", _round(app, forge, hand)))
        with factory() as s:
            kr = s.get(KeyResult, org.krs["bugs2"].id)
            assert kr is not None
            queries.set_query(session=s, workspace_id=org.workspace_id, kr=kr, spec=from_mapping(
                {"provider": "gitlab", "project": "acme/web", "labels": ["okr-q1"]}), now=NOW,
                actor_label="bench", gitlab_hosts=["gitlab.com"])
            s.commit()
        print(_line(f"{n} items entering the search", _round(app, forge, searched)))
        print(_line(f"{n} search items, state changes", _round(app, forge, searched)))
        print(_line(f"{n} hand links, state changes (with search)", _round(app, forge, hand)))
        with factory() as s:
            counts = dict(s.execute(select(IssueLink.kr_id, func.count()).group_by(
                IssueLink.kr_id)).tuples().all())
        assert counts == {org.krs["bugs"].id: n, org.krs["bugs2"].id: n}, counts


if __name__ == "__main__":
    main()
