"""Linear end to end over real HTTP, on PostgreSQL: a fake Linear sends signed webhooks to the
served webhook endpoint and answers reconciliation; the team's next digest (fake Slack)
shows the moves. A redelivery is applied once, a bad signature and a stale delivery change
nothing, and another workspace linking the same issue is never touched."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from app.bootstrap import Container
from app.db import make_session_factory, unit_of_work
from app.models import Checkin, IssueLink, KeyResult
from app.services.links import attach, connections, sync
from tests.fakelinear import FakeLinear, running
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures.scheduler import ORG, Clock, make_settings, posts
from tests.fixtures.scheduler import seed as seed_org
from tests.fixtures.web import flask_app
from tests.fixtures.web import seed as seed_workspace

__all__ = ["fake_slack"]

API_KEY = "lin_api_acme_0123456789abcdef"
QUALITY = """
  - id: quality
    cycle: FY27-Q1
    team: eng
    owner: U0BOB
    title: Ship onboarding without bugs
    key_results:
      - id: kr-bugs
        title: Close the onboarding bugs
        owner: U0CAT
        type: issues
        links: ["https://linear.app/acme/issue/ENG-1/checklist",
                "https://linear.app/acme/issue/ENG-2"]
"""


class WallClock:
    """The served app's clock, moved by the test (check-ins land in the digest's week)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@contextmanager
def served(container: Container, clock: WallClock) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, flask_app(container, clock), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _states(container: Container, workspace_id: int) -> dict[int, tuple[str, bool]]:
    with unit_of_work(container.session_factory) as s:
        return {lk.number: (lk.state, lk.closed) for lk in s.scalars(
            select(IssueLink).where(IssueLink.workspace_id == workspace_id))}


def _checkins(container: Container, workspace_id: int) -> list[str | None]:
    with unit_of_work(container.session_factory) as s:
        return list(s.scalars(select(Checkin.note).where(
            Checkin.workspace_id == workspace_id, Checkin.source == "issues")
            .order_by(Checkin.id)))


@pytest.mark.parametrize("fresh_engine", ["postgresql"], indirect=True)
def test_linear_webhooks_and_reconciliation_reach_the_digest(
        fresh_engine: Engine, fake_slack: FakeSlack) -> None:
    settings = make_settings(fake_slack, OKR_SECRET_KEY="an operator key for the tests",
                             OKR_ALLOW_PRIVATE_HOSTS="127.0.0.1")
    container = Container(settings=settings, engine=fresh_engine,
                          session_factory=make_session_factory(fresh_engine))
    acme = seed_org(container.session_factory, ORG + QUALITY)
    clock = WallClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with running(FakeLinear()) as linear, served(container, clock) as base:
        linear.token = API_KEY
        linear.clock = lambda: clock().timestamp()
        linear.add("ENG-1", "started", "Checklist loses progress")
        linear.add("ENG-2", "unstarted", "Tour skips a step")
        with unit_of_work(container.session_factory) as s:
            mine = connections.add(
                session=s, settings=settings, workspace_id=acme, provider="linear",
                host="linear.app", token=API_KEY, api_url=linear.url, now=clock(),
                actor_label="t")
            # Another workspace links the same issue, with its own connection.
            beta = seed_workspace(s, clock(), name="beta", slack_id="U0B")
            kr = s.get(KeyResult, beta.krs["bugs"].id)
            assert kr is not None
            attach.add(session=s, workspace_id=beta.workspace_id, kr=kr,
                       url="https://linear.app/acme/issue/ENG-1", now=clock(),
                       actor_label="t", gitlab_hosts=[])
            theirs = connections.add(
                session=s, settings=settings, workspace_id=beta.workspace_id,
                provider="linear", host="linear.app", token="lin_api_beta_0123456789ab",
                api_url=linear.url, now=clock(), actor_label="t")

        ticks = Clock(container.session_factory, settings)
        ticks.tick("2026-03-06T15:00:30+00:00")  # Friday 16:00 in Berlin: the first digest
        first = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
        assert "Ship onboarding without bugs" in first and "ENG-1" not in first

        # Completing ENG-1 in Linear: its signed webhook moves the KR at once.
        linear.hook_url, linear.hook_secret = f"{base}{mine.webhook_path}", mine.webhook_secret
        response = linear.set_state("ENG-1", "completed")
        assert response is not None and response.status_code == 200, response.text
        assert response.json()["checkins"] == 1
        assert _states(container, acme) == {1: ("closed", True), 2: ("unknown", False)}

        # The same delivery again: applied once.
        raw, headers = linear.hook("ENG-1", delivery="redelivered")
        assert requests.post(linear.hook_url, data=raw, headers=headers,
                             timeout=10).json()["status"] == "applied"
        assert requests.post(linear.hook_url, data=raw, headers=headers,
                             timeout=10).json() == {"status": "duplicate"}

        # A forged or a stale delivery changes nothing.
        linear.issues["ENG-2"].state = "completed"
        raw, headers = linear.hook("ENG-2")
        forged = {**headers, "Linear-Signature": "f" * 64}
        response = requests.post(linear.hook_url, data=raw, headers=forged, timeout=10)
        assert response.status_code == 401
        clock.at += timedelta(minutes=5)  # the captured delivery is now five minutes old
        response = requests.post(linear.hook_url, data=raw, headers=headers, timeout=10)
        assert response.status_code == 401 and "webhookTimestamp" in response.text
        # Acme's secret on beta's URL is refused too.
        raw, headers = linear.hook("ENG-1")
        response = requests.post(f"{base}{theirs.webhook_path}", data=raw, headers=headers,
                                 timeout=10)
        assert response.status_code == 401
        assert _states(container, acme)[2] == ("unknown", False)
        assert _states(container, beta.workspace_id) == {1: ("unknown", False)}

        # ENG-2's real webhook is lost; reconciliation heals it.
        linear.drop_hooks = True
        linear.set_state("ENG-2", "completed")
        report = sync.run(session_factory=container.session_factory, settings=settings,
                          now=clock(), workspace_id=acme,
                          client_factory=sync.default_client_factory(settings))
        assert (report.changed, report.errors) == (1, [])
        assert _states(container, acme) == {1: ("closed", True), 2: ("closed", True)}
        assert {h.auth for h in linear.api_hits()} == {API_KEY}
        assert _checkins(container, acme) == [
            "ENG-1 closed", "ENG-2 closed (found by reconciliation)"]
        assert _checkins(container, beta.workspace_id) == []

        ticks.tick("2026-03-13T15:00:30+00:00")  # the next Friday's digest
        latest = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
        assert "Ship onboarding without bugs* · 100% · :arrow_up_small: +100 pts" in latest
        assert "ENG-1 closed" in latest
