"""POST /webhooks/jira/<hook key>: Atlassian's documented payloads, events that say nothing
about a state, late deliveries, and what Jira's retries look like."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.models import Checkin, IssueLink, WebhookDelivery
from app.services.links import attach, connections
from tests.fakejira import FakeJira
from tests.fixtures.web import Org, flask_app, seed, settings

PAYLOADS = Path(__file__).parent.parent / "fixtures" / "payloads"
SITE = "acme.atlassian.net"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture()
def container(db_engine: Any, session_factory: sessionmaker[Session]) -> Container:
    return Container(settings=settings(OKR_SECRET_KEY="a key for the tests"), engine=db_engine,
                     session_factory=session_factory)


@pytest.fixture()
def client(container: Container, now: datetime) -> Iterator[FlaskClient]:
    with flask_app(container, lambda: now).test_client() as c:
        yield c


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    for n in (123, 124, 125):
        attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                   url=f"https://{SITE}/browse/PAY-{n}", now=now, actor_label="t",
                   gitlab_hosts=[])
    session.commit()
    return org


@pytest.fixture()
def hook(session: Session, container: Container, org: Org, now: datetime) -> tuple[str, FakeJira]:
    added = connections.add(session=session, settings=container.settings,
                            workspace_id=org.workspace_id, provider="jira", host=SITE,
                            token=None, now=now, actor_label="t")
    session.commit()
    site = FakeJira(SITE)  # not started: only its signing is used here
    site.hook_secret = added.webhook_secret
    return added.webhook_path, site


def _post(client: FlaskClient, hook: tuple[str, FakeJira], body: dict[str, Any],
          delivery: str | None = None) -> tuple[int, Any]:
    path, site = hook
    raw, headers = site.sign(json.dumps(body).encode(), delivery)
    response = client.post(path, data=raw, headers=headers)
    return response.status_code, response.get_json()


def _links(session: Session, org: Org) -> dict[int, tuple[str, bool, str | None]]:
    session.expire_all()
    return {lk.number: (lk.state, lk.closed, lk.title) for lk in session.scalars(
        select(IssueLink).where(IssueLink.workspace_id == org.workspace_id))}


def _notes(session: Session, org: Org) -> list[tuple[str | None, float | None]]:
    return [(c.note, c.score) for c in session.scalars(
        select(Checkin).where(Checkin.kr_id == org.krs["bugs"].id,
                              Checkin.note.like("PAY-%")).order_by(Checkin.id))]


def _metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("okr_webhook_events_total",
                                     {"provider": "jira", "outcome": outcome}) or 0.0


def test_created_updated_deleted(client: FlaskClient, session: Session, org: Org,
                                 hook: tuple[str, FakeJira]) -> None:
    applied = _metric("applied")
    status, body = _post(client, hook, payload("jira_issue_updated.json"), "u-1")
    assert (status, body["changed"], body["checkins"]) == (200, 1, 1)
    status, body = _post(client, hook, payload("jira_issue_created.json"), "c-1")
    assert (status, body["changed"], body["checkins"]) == (200, 1, 0)  # open, as it counted
    status, body = _post(client, hook, payload("jira_issue_deleted.json"), "d-1")
    assert (status, body["changed"]) == (200, 1)
    assert _links(session, org) == {
        123: ("closed", True, "Refunds <fail> for & cards"),
        124: ("open", False, "Refund webhook retries"),
        125: ("deleted", False, "Duplicate of PAY-123"),
    }
    # 1 of 3 done; then 1 of the 2 that still count.
    assert _notes(session, org) == [("PAY-123 closed", pytest.approx(1 / 3)),
                                    ("PAY-125 deleted", 0.5)]
    assert _metric("applied") == applied + 3


def test_events_that_say_nothing_about_a_state_are_ignored(
        client: FlaskClient, session: Session, org: Org, hook: tuple[str, FakeJira]) -> None:
    before = _links(session, org)
    edit = payload("jira_issue_updated.json")
    edit["changelog"]["items"] = [{"field": "summary", "fieldtype": "jira", "fieldId":
                                   "summary", "fromString": "old", "toString": "new"}]
    comment = payload("jira_issue_updated.json")
    comment.pop("changelog")
    comment["issue_event_type_name"] = "issue_commented"
    sprint = {"timestamp": 1, "webhookEvent": "sprint_started", "sprint": {"id": 3}}
    for body in (edit, comment, sprint):
        assert _post(client, hook, body) == (202, {"status": "ignored"})
    assert _links(session, org) == before
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_late_delivery_does_not_undo_a_newer_state(
        client: FlaskClient, session: Session, org: Org, hook: tuple[str, FakeJira]) -> None:
    assert _post(client, hook, payload("jira_issue_updated.json"))[0] == 200
    older = payload("jira_issue_updated.json")  # reopened before it was closed
    fields = older["issue"]["fields"]
    fields["updated"] = "2026-03-02T09:30:00.000+0100"
    fields["status"]["statusCategory"]["key"] = "indeterminate"
    status, body = _post(client, hook, older)
    assert (status, body["changed"]) == (200, 0)
    assert _links(session, org)[123][:2] == ("closed", True)


@pytest.mark.parametrize(("body", "reason"), [
    (b"[]", "not a JSON object"),
    (b"{}", "webhookEvent is missing"),
    (b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "PAY-123", "fields": {}},'
     b' "changelog": {"items": [{"field": "status"}]}}', "issue.fields.status is missing"),
    (b'{"webhookEvent": "jira:issue_deleted", "issue": {"key": "PAY-"}}', "issue.key"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_malformed_bodies_are_400_and_change_nothing(
        client: FlaskClient, session: Session, org: Org, hook: tuple[str, FakeJira],
        body: bytes, reason: str) -> None:
    before = _links(session, org)
    path, site = hook
    raw, headers = site.sign(body)
    response = client.post(path, data=raw, headers=headers)
    assert response.status_code == 400 and reason in response.get_json()["error"]["message"]
    assert _links(session, org) == before


def test_signature_is_checked_on_the_raw_body(client: FlaskClient, session: Session,
                                              org: Org, hook: tuple[str, FakeJira]) -> None:
    path, site = hook
    raw, headers = site.sign(json.dumps(payload("jira_issue_updated.json")).encode())
    # Same JSON, other bytes: the signature no longer matches.
    response = client.post(path, data=raw.replace(b": ", b":"), headers=headers)
    assert response.status_code == 401
    assert "X-Hub-Signature" in response.get_json()["error"]["message"]
    # GitHub's header name is not Jira's.
    github_style = {"X-Hub-Signature-256": headers["X-Hub-Signature"],
                    "Content-Type": "application/json"}
    assert client.post(path, data=raw, headers=github_style).status_code == 401
    assert _links(session, org)[123][0] == "unknown"
