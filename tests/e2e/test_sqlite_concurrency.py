"""Concurrent writers on the embedded SQLite database, over real HTTP: they wait for each other
(BEGIN IMMEDIATE with a busy timeout), so every check-in and every webhook is recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from threading import Barrier
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select

from app.bootstrap import Container
from app.db import unit_of_work
from app.models import Checkin
from app.services.links import attach
from app.services.tenancy import tokens
from tests.fakeforge import FakeGitHub
from tests.fixtures.web import GITHUB_SECRET, seed, serve_web

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALLS = 50

pytestmark = pytest.mark.parametrize("fresh_engine", ["sqlite"], indirect=True)


@pytest.fixture()
def served(fresh_engine: Engine) -> Iterator[tuple[str, Container]]:
    with serve_web(fresh_engine) as served:
        yield served


def _together(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    """``call(i)`` for ``i in range(count)`` from as many threads, released at once."""
    barrier = Barrier(count)

    def run(i: int) -> requests.Response:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _count(container: Container, **where: Any) -> int:
    with unit_of_work(container.session_factory) as s:
        return s.scalar(select(func.count()).select_from(Checkin).filter_by(**where)) or 0


def test_concurrent_api_checkins_are_all_recorded(served: tuple[str, Container]) -> None:
    base, container = served
    with unit_of_work(container.session_factory) as s:
        org = seed(s, NOW)
        secret = tokens.create(session=s, workspace_id=org.workspace_id, name="ci",
                               now=NOW).secret
        key = org.krs["ttfv"].key
    url = f"{base}/api/v1/key-results/{key}/checkins"
    auth = {"Authorization": f"Bearer {secret}"}
    with requests.Session() as warm:  # the first request pays for imports and the pool
        assert warm.get(f"{base}/healthz", timeout=10).status_code == 200

    responses = _together(CALLS, lambda i: requests.post(
        url, json={"value": 5 + i % 9, "note": f"run {i}"}, headers=auth, timeout=60))

    assert sorted({r.status_code for r in responses}) == [201]
    assert _count(container) == CALLS


def test_concurrent_reads_and_writes_all_answer(served: tuple[str, Container]) -> None:
    """Reads are not serialised behind the writers and never fail while they write."""
    base, container = served
    with unit_of_work(container.session_factory) as s:
        org = seed(s, NOW)
        secret = tokens.create(session=s, workspace_id=org.workspace_id, name="ci",
                               now=NOW).secret
        key = org.krs["ttfv"].key
    auth = {"Authorization": f"Bearer {secret}"}

    def call(i: int) -> requests.Response:
        if i % 2:
            return requests.get(f"{base}/api/v1/key-results/{key}", headers=auth, timeout=60)
        return requests.post(f"{base}/api/v1/key-results/{key}/checkins", json={"value": 7},
                             headers=auth, timeout=60)

    responses = _together(20, call)
    assert [r.status_code for r in responses] == [201 if i % 2 == 0 else 200
                                                  for i in range(20)]
    assert _count(container) == 10


def test_concurrent_webhook_closes_both_move_the_score(served: tuple[str, Container]) -> None:
    base, container = served
    github = FakeGitHub()  # not started: only its payload builder is used
    github.hook_secret = GITHUB_SECRET
    with unit_of_work(container.session_factory) as s:
        org = seed(s, NOW)
        for n in range(1, 5):
            github.add("acme/api", "issue", n, "open")
            attach.add(session=s, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                       url=f"https://github.com/acme/api/issues/{n}", now=NOW,
                       actor_label="t", gitlab_hosts=[])
        kr_id = org.krs["bugs"].id
    hooks = []
    for n in range(1, 5):
        github.items[("acme/api", "issue", n)].state = "closed"
        hooks.append(github.hook("acme/api", "issue", n))

    responses = _together(len(hooks), lambda i: requests.post(
        f"{base}/webhooks/github", data=hooks[i][0], headers=hooks[i][1], timeout=60))

    assert [r.status_code for r in responses] == [200] * len(hooks)
    with unit_of_work(container.session_factory) as s:
        scores = s.scalars(select(Checkin.score).where(Checkin.kr_id == kr_id)
                           .order_by(Checkin.id)).all()
    # Each close moved the score one step in turn: none was lost to a race.
    assert scores == [0.25, 0.5, 0.75, 1.0]
