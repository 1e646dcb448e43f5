"""Saved searches end to end over real HTTP: the served web app on PostgreSQL, fake GitLab
and GitHub relabelling issues and sending signed webhooks, the daily sync healing what a lost
webhook missed, links made by hand left alone, and each workspace's searches its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.bootstrap import Container, utcnow
from app.db import unit_of_work
from app.models import AuditEntry, Checkin, Cycle, IssueLink, KeyResult
from app.services.links import attach, queries, query_sync, sync
from app.services.links.query_specs import from_mapping
from app.services.okrs import report as okrs
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fixtures.web import GITHUB_SECRET, GITLAB_SECRET, Org, seed, serve_web, settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTS = ["gitlab.com"]


@pytest.fixture()
def served(fresh_engine: Engine) -> Iterator[tuple[str, Container]]:
    with serve_web(fresh_engine, OKR_TRACKER_WORKSPACE="acme") as served:
        yield served


def _score(session: Session, org: Org) -> float:
    cycle = session.scalars(select(Cycle).where(Cycle.workspace_id == org.workspace_id)).one()
    report = okrs.cycle_report(session=session, workspace_id=org.workspace_id, cycle=cycle,
                               today=date(2026, 3, 2), now=NOW, settings=settings().scoring)
    view = report.key_result(org.krs["bugs"].key)
    assert view is not None
    return view.score


def _items(session: Session, org: Org) -> dict[int, tuple[bool, bool, str]]:
    """number -> (from the search, still in it, state) of the KR's links."""
    rows = session.scalars(select(IssueLink).where(
        IssueLink.workspace_id == org.workspace_id, IssueLink.kr_id == org.krs["bugs"].id))
    return {lk.number: (lk.query_id is not None, lk.left_at is None, lk.state) for lk in rows}


def _follow(session: Session, org: Org, spec: dict[str, object]) -> None:
    kr = session.get(KeyResult, org.krs["bugs"].id)
    assert kr is not None
    queries.set_query(session=session, workspace_id=org.workspace_id, kr=kr,
                      spec=from_mapping(spec), now=NOW, actor_label="t", gitlab_hosts=HOSTS)


def _sync(gitlab: FakeGitLab, github: FakeGitHub, container: Container) -> sync.SyncReport:
    cfg = settings(OKR_GITHUB_API_URL=github.url, OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4")
    return sync.run(session_factory=container.session_factory, settings=cfg, now=utcnow(),
                    searches=True)


def test_a_gitlab_label_search_follows_webhooks_and_the_sync(
        served: tuple[str, Container]) -> None:
    base, container = served
    spec = {"provider": "gitlab", "project": "acme/web", "labels": ["okr-q1"]}
    with unit_of_work(container.session_factory) as s:
        a = seed(s, NOW)
        b = seed(s, NOW, name="beta", slack_id="U0BEE")
        _follow(s, a, spec)
        _follow(s, b, spec)
        # A link made by hand, to an issue the search does not match.
        attach.add(session=s, workspace_id=a.workspace_id, kr=a.krs["bugs"],
                   url="https://gitlab.com/acme/web/-/issues/99", now=NOW, actor_label="t",
                   gitlab_hosts=HOSTS)
    with running(FakeGitLab()) as gitlab, running(FakeGitHub()) as github:
        gitlab.add("acme/web", "issue", 1, "opened", labels=["okr-q1"])
        gitlab.add("acme/web", "issue", 2, "opened", labels=["bug"])
        gitlab.add("acme/web", "issue", 99, "opened")
        report = _sync(gitlab, github, container)
        assert report.searches is not None
        assert (report.searches.searches, report.searches.added, report.errors) == (2, 2, [])
        gitlab.hook_url, gitlab.hook_secret = f"{base}/webhooks/gitlab", GITLAB_SECRET

        # 1. #2 gets the label: its webhook adds it to A's search (and not to B's).
        response = gitlab.set_labels("acme/web", "issue", 2, ["bug", "okr-q1"])
        assert response is not None and response.status_code == 200
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a) == {1: (True, True, "open"), 2: (True, True, "open"),
                                    99: (False, True, "open")}
            assert _items(s, b) == {1: (True, True, "open")}
        # 2. #2 is closed: the ordinary state path scores it.
        gitlab.set_state("acme/web", "issue", 2, "closed")
        with unit_of_work(container.session_factory) as s:
            assert _score(s, a) == pytest.approx(1 / 3)
        # 3. #1 loses the label: it leaves the denominator, its row stays as a trace.
        gitlab.set_labels("acme/web", "issue", 1, [])
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a)[1] == (True, False, "open")
            assert _score(s, a) == 0.5
            notes = s.scalars(select(Checkin.note).where(
                Checkin.kr_id == a.krs["bugs"].id).order_by(Checkin.id)).all()
            assert notes[-2:] == ["acme/web#2 closed", "saved search: acme/web#1 left"]

        # 4. Webhooks get lost: #3 gets the label, #2 loses it. The daily sync heals both.
        gitlab.drop_hooks = True
        gitlab.add("acme/web", "issue", 3, "opened", labels=["okr-q1"])
        gitlab.set_labels("acme/web", "issue", 2, ["bug"])
        report = _sync(gitlab, github, container)
        assert report.errors == []
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a) == {1: (True, False, "open"), 2: (True, False, "closed"),
                                    3: (True, True, "open"), 99: (False, True, "open")}
            # B never saw A's webhooks; the sync brings it to the same set.
            assert _items(s, b) == {1: (True, False, "open"), 3: (True, True, "open")}
            assert _score(s, a) == 0.0
            # 5. #1 gets its label back: it counts again.
        gitlab.drop_hooks = False
        gitlab.set_labels("acme/web", "issue", 1, ["okr-q1"])
        gitlab.set_state("acme/web", "issue", 1, "closed")
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a)[1] == (True, True, "closed")
            assert _score(s, a) == pytest.approx(1 / 3)
            assert _items(s, b)[1] == (True, False, "open")  # still B's trace, untouched
            actions = s.scalars(select(AuditEntry.actor_label).where(
                AuditEntry.workspace_id == a.workspace_id,
                AuditEntry.action == "query.items")).all()
            assert set(actions) == {"sync", "webhook:gitlab"}


def test_a_github_milestone_search_skips_pull_requests_and_follows_webhooks(
        served: tuple[str, Container]) -> None:
    base, container = served
    with unit_of_work(container.session_factory) as s:
        a = seed(s, NOW)
        _follow(s, a, {"provider": "github", "repo": "acme/api", "milestone": "Q1",
                       "labels": ["okr"]})
    with running(FakeGitLab()) as gitlab, running(FakeGitHub()) as github:
        github.add("acme/api", "issue", 1, "open", labels=["okr"], milestone="Q1")
        github.add("acme/api", "issue", 2, "closed", labels=["okr"], milestone="Q2")
        github.add("acme/api", "pull_request", 3, "open", labels=["okr"], milestone="Q1")
        github.add("acme/api", "issue", 4, "closed", labels=["okr"], milestone="Q1")
        report = _sync(gitlab, github, container)
        assert report.errors == []
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a) == {1: (True, True, "open"), 4: (True, True, "closed")}
            assert _score(s, a) == 0.5
        github.hook_url, github.hook_secret = f"{base}/webhooks/github", GITHUB_SECRET
        # #2 moves to the Q1 milestone (signed webhook): it joins, closed already.
        response = github.set_labels("acme/api", "issue", 2, ["okr"], milestone="Q1")
        assert response is not None and response.status_code == 200
        # #4 moves to Q2: it leaves.
        github.set_labels("acme/api", "issue", 4, ["okr"], milestone="Q2")
        with unit_of_work(container.session_factory) as s:
            assert _items(s, a) == {1: (True, True, "open"), 2: (True, True, "closed"),
                                    4: (True, False, "closed")}
            assert _score(s, a) == 0.5


def test_a_search_without_a_searcher_is_reported_and_keeps_its_items(
        served: tuple[str, Container], monkeypatch: pytest.MonkeyPatch) -> None:
    _base, container = served
    monkeypatch.delitem(query_sync.SEARCHERS, "jira", raising=False)
    with unit_of_work(container.session_factory) as s:
        a = seed(s, NOW)
        _follow(s, a, {"provider": "jira", "host": "acme.atlassian.net",
                       "jql": "project = PAY AND labels = okr-q1"})
    with running(FakeGitLab()) as gitlab, running(FakeGitHub()) as github:
        report = _sync(gitlab, github, container)
    assert report.errors == [f"jira search of KR {a.krs['bugs'].id}: no searcher for jira yet"]
    with unit_of_work(container.session_factory) as s:
        row = queries.for_kr(session=s, workspace_id=a.workspace_id, kr_id=a.krs["bugs"].id)
        assert row is not None and row.last_error == "no searcher for jira yet"
