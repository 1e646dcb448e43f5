"""Jira Cloud end to end over real HTTP: the served app on PostgreSQL, a fake Jira site on
127.0.0.1 sending signed webhooks, and the fake Slack the digest goes to.

A closed issue reaches the next digest; a dropped webhook is healed by reconciliation; a
redelivery is applied once; a bad signature changes nothing; one workspace's webhook URL
never touches another's links.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import requests
from flask import Flask
from sqlalchemy import Engine, select
from werkzeug.serving import make_server

from app.bootstrap import Container, utcnow
from app.db import make_session_factory, unit_of_work
from app.models import Checkin, IssueLink, KeyResult
from app.services.links import attach, connections, sync
from tests.fakejira import FakeJira
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures import scheduler as sched
from tests.fixtures.web import Org, flask_app, seed, serve_web

__all__ = ["fake_slack"]

SITE = "acme.atlassian.net"
EMAIL = "okr-bot@acme.example"
TOKEN = "ATATT3xFfGF0-jira-token-1234"
KEY = "an operator key for the tests"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

QUALITY = """
  - id: payments
    cycle: FY27-Q1
    team: eng
    owner: U0BOB
    title: Take payments without incidents
    key_results:
      - id: kr-pay
        title: Close the payment bugs
        owner: U0CAT
        type: issues
        links: ["https://acme.atlassian.net/browse/PAY-12",
                "https://acme.atlassian.net/browse/PAY-13"]
"""


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def jira_site() -> Iterator[FakeJira]:
    site = FakeJira(SITE)
    site.email, site.token = EMAIL, TOKEN
    site.start()
    try:
        yield site
    finally:
        site.stop()


def _connect(container: Container, workspace_id: int, site: FakeJira) -> connections.Added:
    with unit_of_work(container.session_factory) as s:
        return connections.add(session=s, settings=container.settings,
                               workspace_id=workspace_id, provider="jira", host=SITE,
                               api_url=site.url, token=TOKEN, account=EMAIL, now=NOW,
                               actor_label="t")


def test_a_closed_jira_issue_shows_in_the_next_digest(fresh_engine: Engine,
                                                      fake_slack: FakeSlack) -> None:
    factory = make_session_factory(fresh_engine)
    workspace_id = sched.seed(factory, sched.ORG + QUALITY)
    settings = sched.make_settings(fake_slack, OKR_SECRET_KEY=KEY,
                                   OKR_ALLOW_PRIVATE_HOSTS="127.0.0.1")
    container = Container(settings=settings, engine=fresh_engine, session_factory=factory)
    clock = sched.Clock(factory, settings)
    clock.tick("2026-03-06T15:00:30+00:00")  # Friday 16:00 in Berlin: the first digest
    first = json.dumps(sched.posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Take payments without incidents" in first and "PAY-12" not in first

    app = flask_app(container, lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with jira_site() as site, served(app) as base:
        added = _connect(container, workspace_id, site)
        site.hook_url, site.hook_secret = base + added.webhook_path, added.webhook_secret
        site.add_issue("PAY-12", "In Progress", summary="Refunds fail for <b>cards</b>")
        site.add_issue("PAY-13", "To Do")
        response = site.transition("PAY-12", "Done")
        assert response is not None and response.status_code == 200, response.text
        assert response.json()["checkins"] == 1

    clock.tick("2026-03-13T15:00:30+00:00")  # the next Friday's digest
    latest = json.dumps(sched.posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Take payments without incidents* · 50% · :arrow_up_small: +50 pts" in latest
    assert "PAY-12 closed" in latest


@contextmanager
def two_workspaces(engine: Engine) -> Iterator[tuple[str, Container, Org, Org]]:
    with serve_web(engine, OKR_SECRET_KEY=KEY) as (base, container):
        with unit_of_work(container.session_factory) as s:
            a = seed(s, NOW, name="acme", slack_id="U0A")
            b = seed(s, NOW, name="beta", slack_id="U0B")
        yield base, container, a, b


def _link(container: Container, org: Org, key: str) -> None:
    with unit_of_work(container.session_factory) as s:
        kr = s.get(KeyResult, org.krs["bugs"].id)
        assert kr is not None
        attach.add(session=s, workspace_id=org.workspace_id, kr=kr,
                   url=f"https://{SITE}/browse/{key}", now=NOW, actor_label="t",
                   gitlab_hosts=[])


def _states(container: Container, org: Org) -> dict[int, str]:
    with unit_of_work(container.session_factory) as s:
        return dict(s.execute(select(IssueLink.number, IssueLink.state).where(
            IssueLink.workspace_id == org.workspace_id)).tuples().all())


def _scores(container: Container, org: Org) -> list[float | None]:
    with unit_of_work(container.session_factory) as s:
        return list(s.scalars(select(Checkin.score).where(
            Checkin.kr_id == org.krs["bugs"].id, Checkin.note.like("PAY-%"))
            .order_by(Checkin.id)))


def test_signed_once_healed_and_kept_to_its_workspace(fresh_engine: Engine) -> None:
    with jira_site() as site, two_workspaces(fresh_engine) as (base, container, a, b):
        hook_a, hook_b = _connect(container, a.workspace_id, site), _connect(
            container, b.workspace_id, site)
        url_a, url_b = base + hook_a.webhook_path, base + hook_b.webhook_path
        for key in ("PAY-1", "PAY-2", "PAY-3"):
            site.add_issue(key, "To Do")
            _link(container, a, key)
        _link(container, b, "PAY-1")
        site.add_issue("OPS-9", "To Do")
        _link(container, b, "OPS-9")
        site.hook_secret = hook_a.webhook_secret

        # A bad or missing signature: 401, nothing changes.
        site.issues["PAY-1"].status = "Done"
        raw, headers = site.event("jira:issue_updated", "PAY-1", delivery="d-1")
        forged = dict(headers, **{"X-Hub-Signature": "sha256=" + "0" * 64})
        assert requests.post(url_a, data=raw, headers=forged, timeout=5).status_code == 401
        del forged["X-Hub-Signature"]
        assert requests.post(url_a, data=raw, headers=forged, timeout=5).status_code == 401
        assert _states(container, a)[1] == "unknown"

        # Signed: applied to A's link only; the same identifier again is applied once.
        first = requests.post(url_a, data=raw, headers=headers, timeout=5)
        assert first.status_code == 200 and first.json()["checkins"] == 1, first.text
        again = requests.post(url_a, data=raw, headers=headers, timeout=5)
        assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
        assert _scores(container, a) == [1 / 3]
        assert _states(container, b) == {1: "unknown", 9: "unknown"}

        # A's secret on B's URL is refused; on A's URL, an item only B links is unlinked.
        assert requests.post(url_b, data=raw, headers=headers, timeout=5).status_code == 401
        site.issues["OPS-9"].status = "Done"
        raw9, headers9 = site.event("jira:issue_updated", "OPS-9")
        unlinked = requests.post(url_a, data=raw9, headers=headers9, timeout=5)
        assert (unlinked.status_code, unlinked.json()) == (202, {"status": "unlinked"})
        assert _states(container, b) == {1: "unknown", 9: "unknown"}

        # Webhooks lost on the way: reconciliation heals A (and reads B with B's token).
        site.drop_hooks = True
        site.hook_url = url_a
        site.transition("PAY-2", "Done")
        site.delete("PAY-3")
        report = sync.run(session_factory=container.session_factory,
                          settings=container.settings, now=utcnow())
        assert report.errors == [], report.errors
        assert _states(container, a) == {1: "closed", 2: "closed", 3: "deleted"}
        assert _states(container, b) == {1: "closed", 9: "closed"}
        assert _scores(container, a)[-1] == 1.0  # 2 of the 2 that still count

        # A malformed body is a 400 with the reason, never a 5xx.
        raw, headers = site.sign(b'{"webhookEvent": "jira:issue_created", "issue": {}}')
        bad = requests.post(url_a, data=raw, headers=headers, timeout=5)
        assert bad.status_code == 400 and "issue.key" in bad.json()["error"]["message"]
        raw, headers = site.sign(b"not json")
        assert requests.post(url_a, data=raw, headers=headers, timeout=5).status_code == 400
        assert requests.post(f"{base}/webhooks/jira/nope", data=raw, headers=headers,
                             timeout=5).status_code == 404
