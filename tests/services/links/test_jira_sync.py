"""Jira over its REST API (a local fake site): reconciliation, new links, the JQL search."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.models import Checkin, IssueLink
from app.services.errors import InvalidValue
from app.services.links import attach, connections, hosts, jira
from app.services.links import sync as issue_sync
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.refs import ItemState
from tests.fakejira import FakeJira
from tests.fixtures.web import Org, seed, settings

SITE = "acme.atlassian.net"
EMAIL = "okr-bot@acme.example"
TOKEN = "ATATT3xFfGF0-jira-token-1234"
one_backend = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


@pytest.fixture()
def site() -> Iterator[FakeJira]:
    fake = FakeJira(SITE)
    fake.email, fake.token = EMAIL, TOKEN
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture()
def cfg() -> Settings:
    return settings(OKR_SECRET_KEY="a key for the tests")


def _connect(session: Session, cfg: Settings, org: Org, site: FakeJira, now: datetime,
             token: str | None = TOKEN) -> None:
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="jira", host=SITE, api_url=site.url, token=token,
                    account=EMAIL if token else None, now=now, actor_label="t")


def _link(session: Session, org: Org, url: str, now: datetime) -> int:
    allowed = hosts.link_hosts_for(session=session, workspace_id=org.workspace_id,
                                   gitlab_hosts=[])
    row, _ = attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                        url=url, now=now, actor_label="t", gitlab_hosts=allowed)
    return row.id


def _run(factory: sessionmaker[Session], cfg: Settings, now: datetime, org: Org,
         **options: Any) -> issue_sync.SyncReport:
    options.setdefault("timeout", (2.0, 5.0))
    return issue_sync.run(session_factory=factory, settings=cfg, now=now,
                          workspace_id=org.workspace_id,
                          client_factory=issue_sync.default_client_factory(cfg, **options))


def _links(session: Session, org: Org) -> dict[str, tuple[str, bool, str | None]]:
    session.expire_all()
    return {lk.url: (lk.state, lk.closed, lk.title) for lk in session.scalars(
        select(IssueLink).where(IssueLink.workspace_id == org.workspace_id))}


def test_sync_reads_jira_issues_with_basic_auth(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        site: FakeJira, cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, site, now)
    site.add_issue("PAY-1", "Done", summary="Refunds <b>fail</b>")
    site.add_issue("PAY-2", "In Progress")
    for key in ("PAY-1", "pay-2", "PAY-3"):  # PAY-3 does not exist (deleted)
        _link(session, org, f"https://{SITE}/browse/{key}", now)
    session.commit()

    report = _run(session_factory, cfg, now, org)
    assert (report.checked, report.changed, report.errors) == (3, 3, [])
    assert _links(session, org) == {
        f"https://{SITE}/browse/PAY-1": ("closed", True, "Refunds <b>fail</b>"),
        f"https://{SITE}/browse/PAY-2": ("open", False, "issue"),
        f"https://{SITE}/browse/PAY-3": ("deleted", False, None),
    }
    notes = [c.note for c in session.scalars(select(Checkin).where(
        Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id))]
    assert notes[-2:] == ["PAY-1 closed (found by reconciliation)",
                          "PAY-3 deleted (found by reconciliation)"]
    hits = site.api_hits()
    assert {h.path for h in hits} == {"/rest/api/3/issue/PAY-1", "/rest/api/3/issue/PAY-2",
                                      "/rest/api/3/issue/PAY-3"}
    assert {h.auth for h in hits} == {site._credential(TOKEN)}  # Basic email:token


def test_a_link_without_a_token_is_not_read(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        site: FakeJira, cfg: Settings) -> None:
    """Jira answers 404 to what it cannot authenticate: that must not read as deleted."""
    org = seed(session, now)
    site.add_issue("PAY-1", "Done")
    _link(session, org, f"https://{SITE}/browse/PAY-1", now)
    session.commit()
    report = _run(session_factory, cfg, now, org)
    assert report.errors == [f"jira {SITE}: no connection with an API token "
                             "(okr tracker add jira); not fetched"]
    assert _links(session, org)[f"https://{SITE}/browse/PAY-1"][0] == "unknown"
    assert site.api_hits() == []


@one_backend
def test_sync_waits_out_a_429_with_retry_after(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        site: FakeJira, cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, site, now)
    site.add_issue("PAY-1", "Done")
    _link(session, org, f"https://{SITE}/browse/PAY-1", now)
    session.commit()
    site.inject_429(count=2, retry_after=3)
    slept: list[float] = []
    report = _run(session_factory, cfg, now, org, sleep=slept.append,
                  clock=lambda: 1_000_000.0)
    assert (report.checked, report.changed, report.errors) == (1, 1, [])
    assert slept == [3.0, 3.0] and report.waited_seconds == 6.0
    assert [h.status for h in site.api_hits()] == [429, 429, 200]


def test_a_new_link_takes_its_state_at_once(
        session: Session, session_factory: sessionmaker[Session], now: datetime,
        site: FakeJira, cfg: Settings) -> None:
    org = seed(session, now)
    _connect(session, cfg, org, site, now)
    site.add_issue("OPS-7", "Won't Do")
    _link(session, org, f"https://{SITE}/browse/OPS-7", now)
    session.commit()
    report = issue_sync.run_new(session_factory=session_factory, settings=cfg, now=now,
                                workspace_id=org.workspace_id)
    assert report is not None and report.changed == 1
    assert _links(session, org)[f"https://{SITE}/browse/OPS-7"][:2] == ("closed", True)


@one_backend
def test_a_jira_server_host_is_linkable_once_connected(
        session: Session, now: datetime, cfg: Settings) -> None:
    org = seed(session, now)
    url = "https://jira.corp.example/browse/PAY-4"
    with pytest.raises(InvalidValue, match="not a known Jira host"):
        _link(session, org, url, now)
    connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                    provider="jira", host="jira.corp.example", token="pat-token-abcdefghij",
                    now=now, actor_label="t")
    _link(session, org, url, now)
    conn = connections.for_fetch(session=session, settings=cfg, workspace_id=org.workspace_id,
                                 provider="jira", host="jira.corp.example")
    assert (conn.api_url, conn.account) == ("https://jira.corp.example", None)
    # A Data Center personal access token is a bearer token; Server speaks /rest/api/2.
    assert jira.headers(conn)["Authorization"] == "Bearer pat-token-abcdefghij"
    assert jira.api_path("jira.corp.example") == "rest/api/2"


@one_backend
def test_connections_check_the_site_and_the_email(session: Session, now: datetime,
                                                  cfg: Settings) -> None:
    org = seed(session, now)

    def add(**given: Any) -> connections.Added:
        return connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                               provider="jira", now=now, actor_label="t", **given)

    with pytest.raises(InvalidValue, match="email of its Atlassian account") as info:
        add(host=SITE, token=TOKEN)
    assert info.value.field == "account"
    with pytest.raises(InvalidValue, match="not an email address"):
        add(host=SITE, token=TOKEN, account="okr bot")
    with pytest.raises(InvalidValue, match="names its site"):
        add(host="", token=TOKEN, account=EMAIL)
    with pytest.raises(InvalidValue, match="only Jira connections take an account"):
        connections.add(session=session, settings=cfg, workspace_id=org.workspace_id,
                        provider="gitlab", host="gitlab.com", token=None, account=EMAIL,
                        now=now, actor_label="t")
    added = add(host=SITE.upper(), token=TOKEN, account=f" {EMAIL} ")
    assert (added.host, added.webhook_path.startswith("/webhooks/jira/")) == (SITE, True)
    listed = connections.listing(session=session, settings=cfg, workspace_id=org.workspace_id)
    assert [(r.provider, r.host, r.account, r.token_hint) for r in listed
            if r.source == "stored"] == [
        ("jira", SITE, EMAIL, "...1234")]


def _client(site: FakeJira) -> ForgeClient:
    conn = connections.Connection("jira", SITE, site.url, TOKEN, None, account=EMAIL)
    return ForgeClient(provider="jira", base_url=site.url, headers=jira.headers(conn),
                       allow_private=["127.0.0.1"], timeout=(2.0, 5.0))


def test_search_jql_pages_through_the_results(site: FakeJira) -> None:
    for n in range(1, 251):
        site.add_issue(f"PAY-{n}", "Done" if n % 5 == 0 else "To Do", summary=f"task {n}")
    site.add_issue("OPS-1", "Done")
    found = jira.search_jql(_client(site), "project = PAY ORDER BY key", host=SITE)
    assert [i.number for i in found] == list(range(1, 251))
    assert found[4] == ItemState("jira", SITE, "PAY", "issue", 5, "closed",
                                 found[4].updated_at, "task 5")
    assert found[4].updated_at is not None
    # Three pages of at most 100, each asking for the next with the token it was given.
    assert len(site.page_tokens) == 3 and site.page_tokens[0] is None
    assert all(site.page_tokens[1:])
    done = jira.search_jql(_client(site), "project = PAY AND statusCategory = Done",
                           host=SITE, limit=20)
    assert [i.number for i in done] == [5 * n for n in range(1, 21)]
    assert {i.state for i in done} == {"closed"}
    assert site.api_hits()[-1].path == "/rest/api/3/search/jql"


def test_search_jql_refuses_what_jira_refuses(site: FakeJira) -> None:
    with pytest.raises(ForgeError, match="HTTP 400"):
        jira.search_jql(_client(site), "summary ~ refunds", host=SITE)
    assert jira.search_jql(_client(site), "project = NONE", host=SITE) == []
