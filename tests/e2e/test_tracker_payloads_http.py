"""Real-shaped GitHub and GitLab payloads over HTTP: events that say nothing about state,
transfers, deletions, work items, a relative URL root and a plain-http instance."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.models import AuditEntry, Checkin, IssueLink, Workspace
from app.services.data import export
from app.services.links import attach, lookup
from tests.fixtures.web import GITHUB_SECRET, GITLAB_SECRET, Org, seed, serve_web

PAYLOADS = Path(__file__).parent.parent / "fixtures" / "payloads"
HOSTS = ["gitlab.com", "corp.example", "git.internal:8080"]
LINKS = ["https://github.com/acme/api/issues/8", "https://github.com/acme/api/issues/9",
         "https://corp.example/gitlab/acme/web/-/issues/23",
         "http://git.internal:8080/acme/web/-/work_items/31"]


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


# The server runs in its own thread on its own connections: each test has a database of
# its own (both backends), not the rolled-back transaction of the ``session`` fixture.
pytestmark = pytest.mark.parametrize("fresh_engine", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture()
def session(fresh_engine: Engine) -> Iterator[Session]:
    with Session(fresh_engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    for url in LINKS:
        attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
                   now=now, actor_label="t", gitlab_hosts=HOSTS)
    session.commit()
    return org


@pytest.fixture()
def base(fresh_engine: Engine, org: Org) -> Iterator[str]:
    with serve_web(fresh_engine, OKR_GITLAB_HOSTS=",".join(HOSTS)) as (url, _container):
        yield url


def github(base: str, event: str, body: dict[str, Any], delivery: str) -> requests.Response:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(GITHUB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(f"{base}/webhooks/github", data=raw, timeout=10, headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature, "Content-Type": "application/json"})


def gitlab(base: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{base}/webhooks/gitlab", json=body, timeout=10,
                         headers={"X-Gitlab-Token": GITLAB_SECRET})


def links(session: Session, org: Org) -> dict[str, tuple[str, bool]]:
    session.expire_all()
    found = {lk.url: (lk.state, lk.closed) for lk in session.scalars(
        select(IssueLink).where(IssueLink.workspace_id == org.workspace_id))}
    session.rollback()  # end the read: SQLite lets the server write meanwhile
    return found


def notes(session: Session, org: Org) -> list[tuple[str | None, float | None]]:
    found = [(c.note, c.score) for c in session.scalars(
        select(Checkin).where(Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id))]
    session.rollback()
    return found


def closed_github(number: int) -> dict[str, Any]:
    body = payload("github_issues_deleted.json")  # a full issue payload, state closed
    body["action"] = "closed"
    body["issue"]["number"] = number
    return body


def test_an_event_without_a_state_is_accepted_and_changes_nothing(
        base: str, session: Session, org: Org) -> None:
    before = links(session, org)
    response = github(base, "issues", payload("github_issues_pinned.json"), "d-pin")
    assert (response.status_code, response.json()) == (202, {"status": "ignored"})
    assert links(session, org) == before and notes(session, org) == []
    # The same event saying "closed" without a state is still refused: the state must be there.
    broken = payload("github_issues_pinned.json")
    broken["action"] = "closed"
    assert github(base, "issues", broken, "d-broken").status_code == 400


def test_a_deleted_issue_leaves_the_denominator(base: str, session: Session, org: Org) -> None:
    assert github(base, "issues", closed_github(9), "d-close-9").status_code == 200
    response = github(base, "issues", payload("github_issues_deleted.json"), "d-del")
    assert response.status_code == 200 and response.json()["changed"] == 1
    state = links(session, org)
    assert state["https://github.com/acme/api/issues/8"] == ("deleted", False)
    # 1 of 4 done, then 1 of the 3 that still count: it is not "closed".
    assert notes(session, org) == [("acme/api#9 closed", 0.25),
                                   ("acme/api#8 deleted", pytest.approx(1 / 3))]
    items = lookup.linked_items(session=session, workspace_id=org.workspace_id,
                                kr_key=org.krs["bugs"].key)
    session.rollback()
    # Open first (not read from the tracker yet counts as open), then done, then deleted.
    assert [(i.ref, i.state) for i in items] == [
        ("acme/web#31", "unknown"), ("gitlab/acme/web#23", "unknown"),
        ("acme/api#9", "closed"), ("acme/api#8", "deleted")]


def test_a_transfer_moves_the_link_to_the_new_issue(base: str, session: Session,
                                                    org: Org) -> None:
    response = github(base, "issues", payload("github_issues_transferred.json"), "d-move")
    assert response.status_code == 200
    state = links(session, org)
    assert "https://github.com/acme/api/issues/8" not in state
    assert state["https://github.com/acme/docs/issues/41"] == ("open", False)
    moved = session.scalars(select(AuditEntry).where(AuditEntry.action == "link.move")).one()
    assert moved.before == {"url": "https://github.com/acme/api/issues/8"}
    session.rollback()
    # Closing the issue where it lives now moves the KR.
    closed = closed_github(41)
    closed["repository"] = payload("github_issues_transferred.json")["changes"][
        "new_repository"]
    closed["issue"]["updated_at"] = "2026-03-05T11:00:00Z"  # after the transfer
    assert github(base, "issues", closed, "d-close-41").status_code == 200
    assert notes(session, org) == [("acme/docs#41 closed", 0.25)]


def test_gitlab_under_a_relative_url_root_matches(base: str, session: Session,
                                                  org: Org) -> None:
    response = gitlab(base, payload("gitlab_issue_relative_root.json"))
    assert (response.status_code, response.json()["changed"]) == (200, 1)
    assert links(session, org)["https://corp.example/gitlab/acme/web/-/issues/23"] == (
        "closed", True)


def test_a_work_item_on_a_plain_http_instance(base: str, session: Session, org: Org) -> None:
    url = "http://git.internal:8080/acme/web/-/work_items/31"
    response = gitlab(base, payload("gitlab_work_item.json"))
    assert (response.status_code, response.json()["changed"]) == (200, 1)
    assert links(session, org)[url] == ("closed", True)
    # The link keeps its scheme and its form, in the export too.
    data = export.gather(session=session, workspace=session.get(Workspace, org.workspace_id),
                         now=datetime(2026, 3, 10, tzinfo=UTC), settings=ScoringSettings())
    exported = json.dumps(export.to_dict(data), default=str)
    session.rollback()
    assert url in exported and "https://git.internal" not in exported
    # A group's work item (an epic) has no project: accepted, nothing to do.
    response = gitlab(base, payload("gitlab_group_work_item.json"))
    assert (response.status_code, response.json()) == (202, {"status": "ignored"})

