"""Running saved searches over the fake GitLab and GitHub APIs: pages, the milestone lookup,
pull requests skipped, a search cut at its limit, a failing search keeping its items."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import IssueLink, KeyResult
from app.services.links import queries, query_sync
from app.services.links import sync as issue_sync
from app.services.links.query_specs import from_mapping
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fixtures.web import Org, seed, settings

# The HTTP side is what is tested here: one database backend is enough.
pytestmark = pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)


@pytest.fixture()
def forges() -> Iterator[tuple[FakeGitLab, FakeGitHub]]:
    with running(FakeGitLab()) as gitlab, running(FakeGitHub()) as github:
        assert isinstance(gitlab, FakeGitLab) and isinstance(github, FakeGitHub)
        yield gitlab, github


def _refresh(factory: sessionmaker[Session], now: datetime, gitlab: FakeGitLab,
             github: FakeGitHub, org: Org, **kw: object) -> query_sync.QueryReport:
    cfg = settings(OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4", OKR_GITHUB_API_URL=github.url)
    return query_sync.refresh(session_factory=factory, settings=cfg, now=now,
                              workspace_id=org.workspace_id,
                              client_factory=issue_sync.default_client_factory(cfg),
                              **kw)  # type: ignore[arg-type]


def _follow(session: Session, org: Org, spec: dict[str, object]) -> None:
    kr = session.get(KeyResult, org.krs["bugs"].id)
    assert kr is not None
    queries.set_query(session=session, workspace_id=org.workspace_id, kr=kr,
                      spec=from_mapping(spec), now=kr.created_at, actor_label="t",
                      gitlab_hosts=["gitlab.com"])
    session.commit()


def _numbers(session: Session, org: Org, *, counted: bool = True) -> list[int]:
    return sorted(lk.number for lk in session.scalars(select(IssueLink).where(
        IssueLink.kr_id == org.krs["bugs"].id)) if (lk.left_at is None) == counted)


def test_gitlab_search_reads_every_page(session: Session, session_factory: sessionmaker[Session],
                                        now: datetime,
                                        forges: tuple[FakeGitLab, FakeGitHub]) -> None:
    gitlab, github = forges
    org = seed(session, now)
    _follow(session, org, {"provider": "gitlab", "project": "acme/web",
                           "labels": ["okr-q1", "bug"], "milestone": "Q1"})
    for n in range(1, 251):
        labels = ["okr-q1", "bug"] if n % 2 else ["okr-q1"]
        gitlab.add("acme/web", "issue", n, "closed" if n % 5 == 0 else "opened",
                   labels=labels, milestone="Q1" if n <= 240 else "Q2")
    report = _refresh(session_factory, now, gitlab, github, org)
    assert (report.found, report.added, report.errors) == (120, 120, [])
    pages = [h.path for h in gitlab.api_hits() if h.path.endswith("/issues")]
    assert len(pages) == 2  # 100 + 20
    session.expire_all()
    assert _numbers(session, org) == [n for n in range(1, 241, 2)]


def test_github_search_finds_the_milestone_and_skips_pull_requests(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        forges: tuple[FakeGitLab, FakeGitHub]) -> None:
    gitlab, github = forges
    org = seed(session, now)
    _follow(session, org, {"provider": "github", "repo": "acme/api", "milestone": "Q1",
                           "labels": ["okr"]})
    for n in range(1, 131):
        kind = "pull_request" if n % 10 == 0 else "issue"
        github.add("acme/api", kind, n, "open", labels=["okr"], milestone="Q1")
    github.add("acme/api", "issue", 500, "open", labels=["okr"], milestone="Q0")
    report = _refresh(session_factory, now, gitlab, github, org)
    assert (report.found, report.errors) == (117, [])
    session.expire_all()
    assert _numbers(session, org) == [n for n in range(1, 131) if n % 10]
    paths = [h.path for h in github.api_hits()]
    assert paths[0] == "/repos/acme/api/milestones"
    assert paths.count("/repos/acme/api/issues") == 2


def test_a_search_at_its_limit_removes_nothing_and_says_so(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        forges: tuple[FakeGitLab, FakeGitHub]) -> None:
    gitlab, github = forges
    org = seed(session, now)
    _follow(session, org, {"provider": "gitlab", "project": "acme/web", "labels": ["x"]})
    for n in range(1, 6):
        gitlab.add("acme/web", "issue", n, "opened", labels=["x"])
    _refresh(session_factory, now, gitlab, github, org)
    for n in range(1, 4):
        gitlab.set_labels("acme/web", "issue", n, [])
    for n in range(10, 20):
        gitlab.add("acme/web", "issue", n, "opened", labels=["x"])
    report = _refresh(session_factory, now, gitlab, github, org, limit=5)
    assert report.errors == [f"gitlab search of KR {org.krs['bugs'].id}: more than 5 items: "
                             "the first 5 were added, none removed"]
    session.expire_all()
    assert _numbers(session, org, counted=False) == []


def test_a_failing_search_keeps_its_items(session: Session,
                                          session_factory: sessionmaker[Session], now: datetime,
                                          forges: tuple[FakeGitLab, FakeGitHub]) -> None:
    gitlab, github = forges
    org = seed(session, now)
    _follow(session, org, {"provider": "github", "repo": "acme/api", "milestone": "Q1"})
    github.add("acme/api", "issue", 1, "open", milestone="Q1")
    _refresh(session_factory, now, gitlab, github, org)
    github.items[("acme/api", "issue", 1)].milestone = "Q1 renamed"
    report = _refresh(session_factory, now, gitlab, github, org)
    assert report.errors == [f"github search of KR {org.krs['bugs'].id}: acme/api has no "
                             "milestone 'Q1'"]
    session.expire_all()
    assert _numbers(session, org) == [1]
    row = queries.for_kr(session=session, workspace_id=org.workspace_id,
                         kr_id=org.krs["bugs"].id)
    assert row is not None and row.last_error == "acme/api has no milestone 'Q1'"
