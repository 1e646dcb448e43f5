"""Saved searches on Jira (a JQL query) and Linear (a project) over their local fakes: the
daily run (``sync.run(searches=True)``, as ``okr sync-issues`` and the scheduler call it)
adds the items the search finds, drops those it no longer finds from the denominator, and
applies their states; without a connection token nothing is fetched and the error is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.models import Checkin, IssueLink, KRQuery
from app.services.links import connections
from app.services.links import sync as issue_sync
from tests.fakejira import FakeJira
from tests.fakelinear import FakeLinear, running
from tests.fixtures.web import Org, seed, settings
from tests.services.links.test_jira_sync import EMAIL, SITE, TOKEN, site
from tests.services.links.test_query_sync import _follow

pytestmark = pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)

LINEAR_KEY = "lin_api_search_key_0000"
__all__ = ["site"]


@pytest.fixture()
def cfg() -> Settings:
    return settings(OKR_SECRET_KEY="a key for the tests")


@pytest.fixture()
def linear() -> Iterator[FakeLinear]:
    with running(FakeLinear()) as server:
        server.token = LINEAR_KEY
        yield server


def _daily(factory: sessionmaker[Session], cfg: Settings, now: datetime,
           org: Org) -> issue_sync.SyncReport:
    return issue_sync.run(session_factory=factory, settings=cfg, now=now,
                          workspace_id=org.workspace_id, searches=True,
                          client_factory=issue_sync.default_client_factory(
                              cfg, timeout=(2.0, 5.0)))


def _items(session: Session, org: Org) -> dict[str, tuple[str, bool]]:
    """url -> (state, still counted) of the bugs KR's links."""
    session.expire_all()
    return {lk.url: (lk.state, lk.left_at is None) for lk in session.scalars(
        select(IssueLink).where(IssueLink.kr_id == org.krs["bugs"].id))}


def _score(session: Session, org: Org) -> float | None:
    """The KR's score as its latest check-in (each move of the search writes one) says."""
    session.expire_all()
    return session.scalars(select(Checkin.score).where(Checkin.kr_id == org.krs["bugs"].id)
                           .order_by(Checkin.id.desc()).limit(1)).first()


def test_a_jql_search_follows_the_issues_it_finds(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        site: FakeJira, cfg: Settings) -> None:
    org = seed(session, now)
    _follow(session, org, {"provider": "jira", "host": SITE, "jql": "project = PAY"})
    # Without a token nothing is asked of Jira (it answers 404 to the unauthenticated).
    report = _daily(session_factory, cfg, now, org)
    assert report.searches is not None and "no jira connection with an API token" in \
        report.searches.errors[0]
    assert site.api_hits() == [] and _items(session, org) == {}
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="jira", host=SITE, api_url=site.url, token=TOKEN,
                    account=EMAIL, now=now, actor_label="t")
    session.commit()
    site.add_issue("PAY-1", "Done")
    site.add_issue("PAY-2", "In Progress")
    site.add_issue("OPS-9", "Done")  # another project: not in the search
    report = _daily(session_factory, cfg, now, org)
    assert report.searches is not None and report.searches.errors == []
    base = f"https://{SITE}/browse"
    assert _items(session, org) == {f"{base}/PAY-1": ("closed", True),
                                    f"{base}/PAY-2": ("open", True)}
    assert _score(session, org) == pytest.approx(0.5)
    with site.lock:  # PAY-2 moves out of the search (deleted without a webhook)
        del site.issues["PAY-2"]
    site.add_issue("PAY-3", "Done")
    _daily(session_factory, cfg, now, org)
    items = _items(session, org)
    assert items[f"{base}/PAY-2"][1] is False  # kept as a trace, no longer counted
    assert items[f"{base}/PAY-1"] == ("closed", True) == items[f"{base}/PAY-3"]
    assert _score(session, org) == pytest.approx(1.0)
    with session_factory() as s:
        links = s.scalars(select(IssueLink).where(IssueLink.kr_id == org.krs["bugs"].id))
        assert {lk.project for lk in links} == {"pay"}  # stored as a hand-made link is


def test_a_linear_project_search_follows_its_issues(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        linear: FakeLinear, cfg: Settings) -> None:
    org = seed(session, now)
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="linear", host="linear.app", token=LINEAR_KEY, api_url=linear.url,
                    now=now, actor_label="t", canceled_done=True)
    session.commit()
    _follow(session, org, {"provider": "linear", "org": "acme", "project": "Onboarding"})
    linear.add("ENG-1", "completed", project="Onboarding")
    linear.add("ENG-2", "started", project="Onboarding")
    linear.add("ENG-3", "canceled", project="Onboarding")  # counts as done: the connection
    linear.add("ENG-4", "completed", project="Billing")
    report = _daily(session_factory, cfg, now, org)
    assert report.searches is not None and report.searches.errors == [], report.searches
    base = "https://linear.app/acme/issue"
    assert _items(session, org) == {f"{base}/ENG-1": ("closed", True),
                                    f"{base}/ENG-2": ("open", True),
                                    f"{base}/ENG-3": ("closed", True)}
    assert _score(session, org) == pytest.approx(2 / 3)
    with linear.lock:
        linear.issues["ENG-2"].project = "Billing"  # moved to another project
    _daily(session_factory, cfg, now, org)
    assert _items(session, org)[f"{base}/ENG-2"] == ("open", False)
    assert _score(session, org) == pytest.approx(1.0)
    with session_factory() as s:
        row = s.scalars(select(KRQuery)).one()
        assert row.last_error is None and row.refreshed_at is not None
