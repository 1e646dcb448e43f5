"""Concurrent writers on the embedded SQLite database, over real HTTP: they wait for each other
(BEGIN IMMEDIATE with a busy timeout), so every check-in and every webhook is recorded."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from threading import Barrier
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.bootstrap import Container
from app.db import unit_of_work
from app.models import Checkin, KeyResult
from app.services.links import attach
from app.services.tenancy import tokens
from tests.fakeforge import FakeGitHub
from tests.fakeslack import FakeSlack
from tests.fixtures.served import SECRET, Served, free_port, wait_healthy
from tests.fixtures.web import GITHUB_SECRET, seed, serve_web
from tests.slack import seed as slack_seed
from tests.slack.state import submitted_values
from tests.slackreq import SlackRequests

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


@pytest.fixture()
def served_sqlite(fresh_engine: Engine, tmp_path: Path) -> Iterator[Served]:
    """``okr serve`` (gunicorn, two workers) on a SQLite file, with the fake Slack."""
    with FakeSlack() as fake:
        with Session(fresh_engine) as s:
            slack_seed.standard(s, datetime.now(UTC))
            s.commit()
        fake.add_user("U0CY", name="Cy")
        url = fresh_engine.url.render_as_string(hide_password=False)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-e2e",
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
               "OKR_WEB_WORKERS": "2", "OKR_WEB_THREADS": "8", "OKR_LOG_LEVEL": "WARNING"}
        for key in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
            env.pop(key, None)
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "okr"), "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--no-scheduler"], cwd=tmp_path, env=env, stdout=out,
                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, log)
            yield Served(base, fake, SlackRequests(SECRET, response_base=fake.base_url), url,
                         log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_concurrent_slack_checkins_are_all_recorded(served_sqlite: Served,
                                                    fresh_engine: Engine) -> None:
    served = served_sqlite
    served.req.command("U0CY", "checkin").post(served.events_url)
    view = served.fake.last_view()
    assert view is not None and "Fix onboarding bugs" in str(view["blocks"])
    values = submitted_values(view, {"ci_value:kr-cy": "2", "ci_status:kr-cy": "green"})
    # Each submission is a modal of its own (a view id of its own): each one records.
    forms = [{k: v for k, v in view.items() if k != "id"} for _ in range(CALLS)]
    requests_ = [served.req.view_submission("U0CY", form, values) for form in forms]

    responses = _together(CALLS, lambda i: requests_[i].post(served.events_url))

    assert sorted({r.status_code for r in responses}) == [200]
    with Session(fresh_engine) as s:
        count = s.scalar(select(func.count()).select_from(Checkin).join(
            KeyResult, KeyResult.id == Checkin.kr_id).where(KeyResult.key == "kr-cy"))
    assert count == CALLS
    assert "database is locked" not in served.log.read_text()


def test_healthz_does_not_wait_for_a_writer(served: tuple[str, Container],
                                            fresh_engine: Engine) -> None:
    """/healthz reads in a deferred transaction: a writer holding the lock does not make the
    service look down (every other transaction would queue behind it)."""
    base, _ = served
    with fresh_engine.connect() as writer:
        # The first statement begins IMMEDIATE: the write lock is held until the rollback.
        writer.exec_driver_sql("SELECT 1")
        other = sqlite3.connect(str(fresh_engine.url.database), timeout=0,
                                isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError):  # another writer cannot begin
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        response = requests.get(f"{base}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.elapsed.total_seconds() < 2
        writer.rollback()
