"""Reconciliation against local fake GitLab and GitHub servers, rate limits included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Checkin, IssueLink
from app.services.links import attach
from app.services.links import sync as issue_sync
from app.services.links.sync import SyncReport
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fixtures.web import Org, seed, settings

HOSTS = ["gitlab.com"]
# Rate-limit behaviour lives in the HTTP client: one database backend is enough there.
one_backend = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


@pytest.fixture()
def gitlab() -> Iterator[FakeGitLab]:
    with running(FakeGitLab()) as forge:
        assert isinstance(forge, FakeGitLab)
        forge.token = "glpat-test"
        yield forge


@pytest.fixture()
def github() -> Iterator[FakeGitHub]:
    with running(FakeGitHub()) as forge:
        assert isinstance(forge, FakeGitHub)
        forge.token = "ghp-test"
        yield forge


def _link(session: Session, org: Org, url: str, now: datetime) -> None:
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
              now=now, actor_label="t", gitlab_hosts=HOSTS)


def _sync(factory: sessionmaker[Session], now: datetime, gitlab: FakeGitLab | None,
          github: FakeGitHub | None, org: Org, **options: Any) -> SyncReport:
    cfg = settings(OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4" if gitlab else "http://127.0.0.1:9",
                   OKR_GITHUB_API_URL=github.url if github else "http://127.0.0.1:9",
                   OKR_GITLAB_TOKEN="glpat-test", OKR_GITHUB_TOKEN="ghp-test")
    options.setdefault("timeout", (2.0, 5.0))
    return issue_sync.run(session_factory=factory, settings=cfg, now=now,
                          workspace_id=org.workspace_id,
                          client_factory=issue_sync.default_client_factory(cfg, **options))


def _notes(session: Session, org: Org) -> list[tuple[str | None, float | None]]:
    return [(c.note, c.score) for c in session.scalars(
        select(Checkin).where(Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id))]


def test_sync_heals_dropped_webhooks(session: Session, session_factory: sessionmaker[Session],
                                     now: datetime, gitlab: FakeGitLab,
                                     github: FakeGitHub) -> None:
    org = seed(session, now)
    gitlab.add("acme/web", "issue", 12, "opened")
    gitlab.add("acme/web", "merge_request", 4, "opened")
    github.add("acme/api", "pull_request", 7, "open")
    github.add("acme/api", "issue", 8, "open")
    for url in ("https://gitlab.com/acme/web/-/issues/12",
                "https://gitlab.com/acme/web/-/merge_requests/4",
                "https://github.com/acme/api/pull/7", "https://github.com/acme/api/issues/8"):
        _link(session, org, url, now)
    session.commit()
    gitlab.drop_hooks = github.drop_hooks = True
    gitlab.set_state("acme/web", "issue", 12, "closed")
    github.set_state("acme/api", "pull_request", 7, "closed", merged=True)
    github.set_state("acme/api", "issue", 8, "closed")

    report = _sync(session_factory, now, gitlab, github, org)
    assert (report.checked, report.changed, report.checkins, report.errors) == (4, 4, 3, [])
    assert _notes(session, org) == [
        ("acme/api#7 merged (found by reconciliation)", 0.25),
        ("acme/api#8 closed (found by reconciliation)", 0.5),
        ("acme/web#12 closed (found by reconciliation)", 0.75),
    ]
    # Our tokens went to the right places; GitLab answered both kinds in one request each.
    assert {h.auth for h in gitlab.api_hits()} == {"glpat-test"}
    assert {h.auth for h in github.api_hits()} == {"Bearer ghp-test"}
    assert len(gitlab.api_hits()) == 2
    again = _sync(session_factory, now, gitlab, github, org)
    assert (again.changed, again.checkins) == (0, 0)


def test_gitlab_is_asked_in_batches_and_missing_items_are_reported(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(issue_sync, "BATCH", 10)
    org = seed(session, now)
    for n in range(1, 26):
        gitlab.add("acme/big", "issue", n, "closed" if n % 3 == 0 else "opened")
        _link(session, org, f"https://gitlab.com/acme/big/-/issues/{n}", now)
    _link(session, org, "https://gitlab.com/acme/big/-/issues/999", now)
    session.commit()
    report = _sync(session_factory, now, gitlab, None, org)
    assert report.checked == 25 and report.missing == ["acme/big#999"]
    assert len(gitlab.api_hits()) == 3  # 10 + 10 + 6 per request
    closed = session.scalars(select(IssueLink).where(
        IssueLink.kr_id == org.krs["bugs"].id, IssueLink.closed.is_(True))).all()
    assert len(closed) == 8


@one_backend
def test_429_with_retry_after_is_waited_out(session: Session,
                                            session_factory: sessionmaker[Session],
                                            now: datetime, github: FakeGitHub) -> None:
    org = seed(session, now)
    github.add("acme/api", "issue", 8, "closed")
    _link(session, org, "https://github.com/acme/api/issues/8", now)
    session.commit()
    github.inject_429(count=1, retry_after=1)
    report = _sync(session_factory, now, None, github, org)
    hits = github.api_hits()
    assert [h.status for h in hits] == [429, 200]
    assert hits[1].at - hits[0].at >= 0.95
    assert report.checkins == 1 and report.waited_seconds == pytest.approx(1.0, abs=0.01)


@pytest.mark.slow
@one_backend
@pytest.mark.parametrize("forge_kind", ["gitlab", "github"])
def test_spent_budget_waits_for_the_reset_instead_of_hammering(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        gitlab: FakeGitLab, github: FakeGitHub, forge_kind: str) -> None:
    org = seed(session, now)
    forge: FakeGitLab | FakeGitHub = gitlab if forge_kind == "gitlab" else github
    for n in (1, 2, 3):
        if forge_kind == "gitlab":
            gitlab.add(f"acme/p{n}", "issue", n, "closed")
            _link(session, org, f"https://gitlab.com/acme/p{n}/-/issues/{n}", now)
        else:
            github.add("acme/api", "issue", n, "closed")
            _link(session, org, f"https://github.com/acme/api/issues/{n}", now)
    session.commit()
    # Two requests are left in this window: the client must pause after the second, not
    # spend a request on a refusal, and carry on once the window resets.
    forge.budget, forge.window = 2, 1.0
    forge.exhaust(reset_in=1.0)
    forge._used = 0  # the window is fresh but short: 2 requests, reset in 1 s
    report = _sync(session_factory, now, gitlab, github, org)
    hits = forge.api_hits()
    assert [h.status for h in hits] == [200, 200, 200]
    assert hits[2].at - hits[1].at >= 0.3
    assert report.checkins == 3 and report.waited_seconds > 0


@one_backend
def test_exhausted_budget_without_retry_after_waits_for_reset(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        github: FakeGitHub) -> None:
    org = seed(session, now)
    github.add("acme/api", "issue", 8, "closed")
    _link(session, org, "https://github.com/acme/api/issues/8", now)
    session.commit()
    github.exhaust(reset_in=1.0)
    report = _sync(session_factory, now, None, github, org)
    hits = github.api_hits()
    assert [h.status for h in hits] == [403, 200]  # GitHub's primary limit is a 403
    assert hits[1].at - hits[0].at >= 0.5
    assert report.checkins == 1


@one_backend
def test_a_wait_beyond_the_budget_gives_up_on_that_host_only(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        gitlab: FakeGitLab, github: FakeGitHub) -> None:
    org = seed(session, now)
    github.add("acme/api", "issue", 8, "closed")
    gitlab.add("acme/web", "issue", 12, "closed")
    _link(session, org, "https://github.com/acme/api/issues/8", now)
    _link(session, org, "https://gitlab.com/acme/web/-/issues/12", now)
    session.commit()
    github.inject_429(count=5, retry_after=3600)
    report = _sync(session_factory, now, gitlab, github, org, max_wait=60)
    assert len(report.errors) == 1 and report.errors[0].startswith("github")
    assert "rate limited" in report.errors[0]
    assert report.checked == 1 and report.checkins == 1
    assert len(github.api_hits()) == 1


@one_backend
def test_unreachable_tracker_is_an_error_not_a_crash(
        session: Session, session_factory: sessionmaker[Session], now: datetime) -> None:
    org = seed(session, now)
    _link(session, org, "https://github.com/acme/api/issues/8", now)
    session.commit()
    slept: list[float] = []
    report = _sync(session_factory, now, None, None, org, max_attempts=2, sleep=slept.append)
    assert report.errors and "kept failing" in report.errors[0]
    assert report.checked == 0 and len(slept) == 2


def test_daily_run_happens_once_a_day_across_processes(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        gitlab: FakeGitLab) -> None:
    org = seed(session, now)
    gitlab.add("acme/web", "issue", 12, "closed")
    _link(session, org, "https://gitlab.com/acme/web/-/issues/12", now)
    session.commit()
    cfg = settings(OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4", OKR_GITLAB_TOKEN="glpat-test")
    first = issue_sync.run_daily(session_factory=session_factory, settings=cfg, now=now)
    again = issue_sync.run_daily(session_factory=session_factory, settings=cfg,
                                 now=now.replace(hour=23))
    assert first is not None and first.checkins == 1 and again is None
    job = issue_sync.daily_job(session_factory, cfg, lambda: now.replace(day=now.day + 1))
    job()  # the next day: runs again (nothing left to change) and never raises
    assert len(gitlab.api_hits()) == 2


def test_sync_reads_an_instance_under_a_relative_url_root(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        gitlab: FakeGitLab) -> None:
    """Links hold the root (``/gitlab/acme/web``); the API names the project without it."""
    gitlab.root = "gitlab"
    org = seed(session, now)
    gitlab.add("acme/web", "issue", 3, "closed")
    _link(session, org, "https://gitlab.com/gitlab/acme/web/-/issues/3", now)
    session.commit()
    cfg = settings(OKR_GITLAB_API_URL=f"{gitlab.url}/gitlab/api/v4", OKR_GITLAB_TOKEN="glpat-test")
    report = issue_sync.run(session_factory=session_factory, settings=cfg, now=now,
                            workspace_id=org.workspace_id,
                            client_factory=issue_sync.default_client_factory(cfg))
    assert (report.checked, report.missing, report.errors) == (1, [], [])
    assert _notes(session, org) == [("gitlab/acme/web#3 closed (found by reconciliation)", 1.0)]
    assert [h.path for h in gitlab.api_hits()] == ["/gitlab/api/v4/projects/acme%2Fweb/issues"]


def test_sync_finds_an_issue_deleted_on_github(session: Session,
                                               session_factory: sessionmaker[Session],
                                               now: datetime, github: FakeGitHub) -> None:
    org = seed(session, now)
    github.add("acme/api", "issue", 8, "open")
    github.add("acme/api", "issue", 9, "closed")
    for n in (8, 9):
        _link(session, org, f"https://github.com/acme/api/issues/{n}", now)
    session.commit()
    github.deleted.add(("acme/api", 8))  # GitHub answers 410 Gone
    report = _sync(session_factory, now, None, github, org)
    assert (report.checked, report.missing) == (2, [])
    states = {n: st for n, st in session.execute(select(IssueLink.number, IssueLink.state)
                                                 .where(IssueLink.kr_id == org.krs["bugs"].id))}
    assert states == {8: "deleted", 9: "closed"}
    # Only #9 counts now, and it is done.
    assert _notes(session, org) == [("acme/api#9 closed (found by reconciliation)", 1.0)]


def test_new_links_take_their_state_at_once_where_there_is_a_connection(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        github: FakeGitHub, gitlab: FakeGitLab) -> None:
    org = seed(session, now)
    github.add("acme/api", "pull_request", 7, "closed")
    github.set_state("acme/api", "pull_request", 7, "closed", merged=True)
    _link(session, org, "https://github.com/acme/api/pull/7", now)
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
               url="https://git.example.org/a/b/-/issues/3", now=now, actor_label="t",
               gitlab_hosts=["git.example.org"])  # allowed, but no token for it
    session.commit()
    cfg = settings(OKR_GITHUB_API_URL=github.url, OKR_GITHUB_TOKEN="ghp-test")
    report = issue_sync.run_new(session_factory=session_factory, settings=cfg, now=now,
                                workspace_id=org.workspace_id,
                                client_factory=issue_sync.default_client_factory(cfg))
    assert report is not None and report.checked == 1
    states = {h: st for h, st in session.execute(select(IssueLink.host, IssueLink.state)
                                                 .where(IssueLink.kr_id == org.krs["bugs"].id))}
    assert states == {"github.com": "merged", "git.example.org": "unknown"}
    assert not gitlab.api_hits()
    # Nothing left to read: no call at all.
    assert issue_sync.run_new(session_factory=session_factory, settings=cfg, now=now,
                              workspace_id=org.workspace_id) is None
