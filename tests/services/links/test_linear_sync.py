"""Reconciliation of Linear links against a local fake Linear (GraphQL over real HTTP): states,
deletions, another organisation's issue, rate limits, the canceled setting, new links read
at once, a project's issues page by page, and the JSON POST's outbound checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.models import Checkin, IssueLink
from app.services.links import attach, connections, linear
from app.services.links import sync as issue_sync
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.refs import ItemState
from app.services.links.sync import SyncReport
from tests.fakelinear import FakeLinear, running
from tests.fixtures.web import Org, seed, settings

API_KEY = "lin_api_0123456789abcdefghij"
one_backend = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


@pytest.fixture()
def fake() -> Iterator[FakeLinear]:
    with running(FakeLinear()) as server:
        server.token = API_KEY
        yield server


@pytest.fixture()
def cfg() -> Settings:
    return settings(OKR_SECRET_KEY="an operator key for the tests")


def _connect(session: Session, cfg: Settings, org: Org, fake: FakeLinear, now: datetime,
             **options: Any) -> None:
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="linear", host="linear.app", token=API_KEY, api_url=fake.url,
                    now=now, actor_label="t", **options)


def _link(session: Session, org: Org, url: str, now: datetime) -> None:
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
               now=now, actor_label="t", gitlab_hosts=["gitlab.com"])


def _sync(factory: sessionmaker[Session], cfg: Settings, now: datetime, org: Org,
          **options: Any) -> SyncReport:
    options.setdefault("timeout", (2.0, 5.0))
    return issue_sync.run(session_factory=factory, settings=cfg, now=now,
                          workspace_id=org.workspace_id,
                          client_factory=issue_sync.default_client_factory(cfg, **options))


def _links(session: Session, org: Org) -> dict[int, tuple[str, bool, str | None]]:
    session.expire_all()
    return {lk.number: (lk.state, lk.closed, lk.title) for lk in session.scalars(
        select(IssueLink).where(IssueLink.workspace_id == org.workspace_id))}


def _notes(session: Session, org: Org) -> list[tuple[str | None, float | None]]:
    return [(c.note, c.score) for c in session.scalars(
        select(Checkin).where(Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id))]


def test_sync_heals_dropped_webhooks_and_reads_deletions(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        fake: FakeLinear, cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, fake, now)
    fake.add("ENG-1", "started", "Checklist")
    fake.add("ENG-2", "unstarted", "Tour")
    fake.add("ENG-3", "backlog", "Emails")
    for n in (1, 2, 3):
        _link(session, org, f"https://linear.app/acme/issue/ENG-{n}/x", now)
    session.commit()
    fake.drop_hooks = True
    fake.set_state("ENG-1", "completed")
    fake.remove("ENG-3")

    report = _sync(session_factory, cfg, now, org)
    assert (report.checked, report.changed, report.errors, report.missing) == (3, 3, [], [])
    assert _links(session, org) == {1: ("closed", True, "Checklist"),
                                    2: ("open", False, "Tour"),
                                    3: ("deleted", False, None)}
    assert _notes(session, org) == [
        ("ENG-1 closed (found by reconciliation)", pytest.approx(1 / 3)),
        ("ENG-3 deleted (found by reconciliation)", 0.5)]
    # The key went as Linear wants it, to the GraphQL endpoint, one query per issue.
    hits = fake.api_hits()
    assert {h.auth for h in hits} == {API_KEY}
    assert sorted(h.variables["id"] for h in hits) == ["ENG-1", "ENG-2", "ENG-3"]
    again = _sync(session_factory, cfg, now, org)
    assert (again.changed, again.checkins) == (0, 0)


def test_an_issue_of_another_organisation_is_missing_not_applied(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        fake: FakeLinear, cfg: Settings) -> None:
    """The key is acme's: asked for beta's ENG-1, Linear answers acme's ENG-1."""
    org = seed(session, now)
    _connect(session, cfg, org, fake, now)
    fake.add("ENG-1", "completed")
    _link(session, org, "https://linear.app/beta/issue/ENG-1", now)
    session.commit()
    report = _sync(session_factory, cfg, now, org)
    assert (report.checked, report.missing) == (0, ["ENG-1"])
    assert _links(session, org)[1][0] == "unknown"


@pytest.mark.parametrize("canceled_done", [False, True])
def test_canceled_follows_the_connection(session: Session,
                                         session_factory: sessionmaker[Session],
                                         now: datetime, fake: FakeLinear, cfg: Settings,
                                         canceled_done: bool) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, fake, now, canceled_done=canceled_done)
    fake.add("ENG-5", "canceled")
    _link(session, org, "https://linear.app/acme/issue/ENG-5", now)
    session.commit()
    _sync(session_factory, cfg, now, org)
    assert _links(session, org)[5][:2] == (("closed", True) if canceled_done
                                           else ("open", False))


@one_backend
@pytest.mark.parametrize("style", ["429", "graphql"])
def test_rate_limits_are_waited_out_with_retry_after(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        fake: FakeLinear, cfg: Settings, style: str) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, fake, now)
    fake.add("ENG-1", "completed")
    _link(session, org, "https://linear.app/acme/issue/ENG-1", now)
    session.commit()
    fake.inject_ratelimit(count=1, retry_after=1, style=style)
    report = _sync(session_factory, cfg, now, org)
    hits = fake.api_hits()
    assert [h.status for h in hits] == [429 if style == "429" else 400, 200]
    assert hits[1].at - hits[0].at >= 0.95
    assert report.checkins == 1 and report.waited_seconds == pytest.approx(1.0, abs=0.01)


@one_backend
def test_a_long_rate_limit_gives_up_and_reports(session: Session,
                                                session_factory: sessionmaker[Session],
                                                now: datetime, fake: FakeLinear,
                                                cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, fake, now)
    fake.add("ENG-1", "completed")
    _link(session, org, "https://linear.app/acme/issue/ENG-1", now)
    session.commit()
    fake.inject_ratelimit(count=5, retry_after=3600)
    slept: list[float] = []
    report = _sync(session_factory, cfg, now, org, sleep=slept.append, max_wait=60)
    assert slept == [] and report.checkins == 0
    assert report.errors and "rate limited" in report.errors[0]
    assert len(fake.api_hits()) == 1  # one refusal, then no hammering


def test_a_wrong_key_is_an_error_of_that_tracker(session: Session,
                                                 session_factory: sessionmaker[Session],
                                                 now: datetime, fake: FakeLinear,
                                                 cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, fake, now)
    fake.token = "lin_api_another_key"
    fake.add("ENG-1", "completed")
    _link(session, org, "https://linear.app/acme/issue/ENG-1", now)
    session.commit()
    report = _sync(session_factory, cfg, now, org)
    assert report.errors == ["linear linear.app: linear: Authentication required, not "
                             "authenticated (AUTHENTICATION_ERROR)"]
    assert _links(session, org)[1][0] == "unknown"


def test_a_new_link_takes_its_state_at_once(session: Session,
                                            session_factory: sessionmaker[Session],
                                            now: datetime, fake: FakeLinear,
                                            cfg: Settings) -> None:
    org = seed(session, now)
    fake.add("ENG-7", "completed", "Done already")
    _link(session, org, "https://linear.app/acme/issue/ENG-7", now)
    session.commit()
    # Without a connection there is nothing to read it with.
    assert issue_sync.run_new(session_factory=session_factory, settings=cfg, now=now,
                              workspace_id=org.workspace_id) is None
    _connect(session, cfg, org, fake, now)
    session.commit()
    report = issue_sync.run_new(session_factory=session_factory, settings=cfg, now=now,
                                workspace_id=org.workspace_id,
                                client_factory=issue_sync.default_client_factory(cfg))
    assert report is not None and report.checked == 1
    assert _links(session, org)[7] == ("closed", True, "Done already")


# --- a project's issues ------------------------------------------------------------------


def _client(fake: FakeLinear, **options: Any) -> ForgeClient:
    conn = connections.Connection("linear", "linear.app", fake.url, API_KEY, None)
    return linear.client(conn, allow_private=["127.0.0.1"], **options)


def test_project_issues_page_through_the_project(fake: FakeLinear) -> None:
    for n in range(1, 251):
        fake.add(f"ENG-{n}", "completed" if n % 5 == 0 else "started", f"Task {n}",
                 project="Onboarding")
    fake.add("OPS-1", "canceled", "Elsewhere", project="Billing")
    fake.add("OPS-2", "canceled", "Canceled", project="Onboarding")
    found = linear.project_issues(_client(fake), "Onboarding", org="acme")
    assert len(found) == 251
    pages = [h.variables for h in fake.api_hits()]
    assert [(p["first"], p["after"]) for p in pages] == [(100, None), (100, "cursor-100"),
                                                         (100, "cursor-200")]
    assert all(p["name"] == "Onboarding" for p in pages)
    by_ref = {(i.project, i.number): i for i in found}
    assert by_ref[("acme/ENG", 10)] == ItemState(
        "linear", "linear.app", "acme/ENG", "issue", 10, "closed",
        by_ref[("acme/ENG", 10)].updated_at, "Task 10")
    assert by_ref[("acme/ENG", 11)].state == "open"
    assert by_ref[("acme/OPS", 2)].state == "open"
    assert sum(i.state == "closed" for i in found) == 50
    capped = linear.project_issues(_client(fake), "Onboarding", org="acme", limit=120,
                                   canceled_done=True)
    assert len(capped) == 120 and len(fake.api_hits()) == 5
    assert linear.project_issues(_client(fake), "No such project", org="acme") == []
    # Issues answered for another organisation than the one asked for are left out.
    assert linear.project_issues(_client(fake), "Onboarding", org="beta") == []


def test_project_issues_wait_out_a_rate_limit(fake: FakeLinear) -> None:
    fake.add("ENG-1", "completed", project="Onboarding")
    fake.inject_ratelimit(count=1, retry_after=1)
    slept: list[float] = []
    found = linear.project_issues(_client(fake, sleep=slept.append), "Onboarding", org="acme")
    assert [i.number for i in found] == [1] and slept == [pytest.approx(1.0, abs=0.05)]


# --- the JSON POST's outbound checks -------------------------------------------------------


def test_a_post_to_a_private_address_is_never_made() -> None:
    client = ForgeClient(provider="linear", base_url="http://169.254.169.254",
                         headers={"Authorization": API_KEY}, timeout=(0.5, 0.5),
                         max_attempts=1, sleep=lambda _s: None)
    started = time.monotonic()
    with pytest.raises(ForgeError, match="link-local or private"):
        client.post("graphql", {"query": "{ viewer { id } }"})
    assert time.monotonic() - started < 0.5


def test_a_post_follows_no_redirect_and_reads_within_limits(fake: FakeLinear) -> None:
    fake.add("ENG-1", "completed")
    fake.redirect_to = "http://127.0.0.1:9"
    with pytest.raises(ForgeError, match="redirected a POST"):
        linear.fetch_issue(_client(fake), "linear.app", "acme/ENG", 1)
    fake.redirect_to = None
    fake.pad_bytes = 50_000
    with pytest.raises(ForgeError, match="larger than 10000 bytes"):
        linear.fetch_issue(_client(fake, max_bytes=10_000), "linear.app", "acme/ENG", 1)
    fake.pad_bytes = 0
    item = linear.fetch_issue(_client(fake), "linear.app", "acme/ENG", 1)
    assert item is not None and item.state == "closed"


def test_without_a_connection_linear_is_not_asked(session: Session,
                                                  session_factory: sessionmaker[Session],
                                                  now: datetime, fake: FakeLinear,
                                                  cfg: Settings) -> None:
    org = seed(session, now)
    for n in (1, 2):
        _link(session, org, f"https://linear.app/acme/issue/ENG-{n}", now)
    session.commit()
    report = _sync(session_factory, cfg, now, org)
    assert report.errors == ["linear linear.app: this workspace has no Linear connection with "
                             "an API key (okr tracker add linear)"]
    assert report.requests == 0 and fake.api_hits() == []


def test_a_wrong_api_address_is_an_error_never_a_deletion(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        fake: FakeLinear, cfg: Settings) -> None:
    org = seed(session, now)
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="linear", host="linear.app", token=API_KEY,
                    api_url=f"{fake.url}/v2", now=now, actor_label="t")
    fake.add("ENG-1", "completed")
    _link(session, org, "https://linear.app/acme/issue/ENG-1", now)
    session.commit()
    report = _sync(session_factory, cfg, now, org)
    assert report.errors == ["linear linear.app: linear answered HTTP 404 for graphql"]
    assert _links(session, org)[1][0] == "unknown"
