"""POST /webhooks/linear/<hook key>: signature, freshness, redelivery, types, the canceled
setting, late events, bad bodies; a workspace's key touches that workspace only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.metrics import WEBHOOK_EVENTS
from app.models import AuditEntry, Checkin, IssueLink, WebhookDelivery
from app.services.links import attach, connections
from tests.fakelinear import FakeLinear
from tests.fixtures.web import Org, flask_app, seed
from tests.fixtures.web import settings as web_settings

KEY = "an operator key for the tests"
PAYLOADS = Path(__file__).parents[1] / "fixtures" / "payloads"
ISSUE = "https://linear.app/acme/issue/ENG-123/onboarding-checklist"
OTHER = "https://linear.app/acme/issue/ENG-124"


@pytest.fixture()
def container(db_engine: Engine, session_factory: sessionmaker[Session]) -> Container:
    return Container(settings=web_settings(OKR_SECRET_KEY=KEY), engine=db_engine,
                     session_factory=session_factory)


@pytest.fixture()
def client(container: Container, now: datetime) -> Iterator[FlaskClient]:
    with flask_app(container, lambda: now).test_client() as c:
        yield c


def _connect(session: Session, container: Container, org: Org, now: datetime,
             **options: Any) -> connections.Added:
    added = connections.add(session=session, settings=container.settings,
                            workspace_id=org.workspace_id, provider="linear", host="",
                            token="lin_api_0123456789abcdef", now=now, actor_label="t",
                            **options)
    session.commit()
    return added


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    for url in (ISSUE, OTHER):
        attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                   url=url, now=now, actor_label="t", gitlab_hosts=["gitlab.com"])
    session.commit()
    return org


@pytest.fixture()
def hook(session: Session, container: Container, org: Org, now: datetime) -> str:
    return _connect(session, container, org, now).webhook_path


@pytest.fixture()
def linear(session: Session, container: Container, org: Org, now: datetime,
           hook: str) -> FakeLinear:
    fake = FakeLinear()  # not started: only its webhook builder is used here
    with container.session_factory() as s:
        conn = connections.by_hook_key(session=s, settings=container.settings,
                                       provider="linear", key=hook.rsplit("/", 1)[1])
    assert conn is not None and conn.webhook_secret
    fake.hook_secret = conn.webhook_secret
    fake.clock = now.timestamp
    fake.add("ENG-123", "started", "Onboarding checklist")
    fake.add("ENG-124", "unstarted", "Second")
    fake.add("ENG-900", "unstarted", "Nobody links this")
    return fake


def _post(client: FlaskClient, path: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = client.post(path, data=body, headers=headers)
    return response.status_code, response.get_json()


def _count(session: Session, model: type, org: Org | None = None) -> int:
    query = select(func.count()).select_from(model)
    if org is not None:
        query = query.where(model.workspace_id == org.workspace_id)  # type: ignore[attr-defined]
    return session.scalar(query) or 0


def _link(session: Session, org: Org, number: int) -> IssueLink:
    session.expire_all()
    return session.scalars(select(IssueLink).where(
        IssueLink.workspace_id == org.workspace_id, IssueLink.number == number)).one()


def test_links_store_the_linear_coordinates(session: Session, org: Org) -> None:
    link = _link(session, org, 123)
    assert (link.provider, link.host, link.project, link.kind, link.url) == (
        "linear", "linear.app", "acme/ENG", "issue", "https://linear.app/acme/issue/ENG-123")


def test_completing_an_issue_moves_the_score(client: FlaskClient, session: Session,
                                             linear: FakeLinear, org: Org, hook: str) -> None:
    linear.issues["ENG-123"].state = "completed"
    status, body = _post(client, hook, *linear.hook("ENG-123"))
    assert (status, body) == (200, {"status": "applied", "links": 1, "changed": 1,
                                    "checkins": 1})
    link = _link(session, org, 123)
    assert (link.state, link.closed, link.title) == ("closed", True, "Onboarding checklist")
    linear.issues["ENG-123"].state = "started"
    linear.issues["ENG-123"].updated_at += timedelta(minutes=5)
    _post(client, hook, *linear.hook("ENG-123"))
    notes = session.execute(select(Checkin.note, Checkin.score).where(
        Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id)).all()
    assert [tuple(n) for n in notes] == [("ENG-123 closed", 0.5), ("ENG-123 reopened", 0.0)]


def test_a_removed_issue_leaves_the_denominator(client: FlaskClient, session: Session,
                                                linear: FakeLinear, org: Org,
                                                hook: str) -> None:
    linear.issues["ENG-124"].state = "completed"
    _post(client, hook, *linear.hook("ENG-124"))
    status, body = _post(client, hook, *linear.hook("ENG-123", action="remove"))
    assert status == 200 and body["changed"] == 1
    assert _link(session, org, 123).state == "deleted"
    scores = session.scalars(select(Checkin.score).where(
        Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id)).all()
    assert scores == [0.5, 1.0]  # 1 of 2, then 1 of the 1 that still counts


def test_bad_or_missing_signatures_get_401_and_change_nothing(
        client: FlaskClient, session: Session, linear: FakeLinear, org: Org,
        hook: str) -> None:
    before = (_count(session, Checkin, org), _count(session, WebhookDelivery))
    linear.issues["ENG-123"].state = "completed"
    raw, headers = linear.hook("ENG-123")
    tampered = raw.replace(b'"Onboarding checklist"', b'"Renamed"')
    unsigned = {k: v for k, v in headers.items() if k != "Linear-Signature"}
    for body, sent in ((raw, {**headers, "Linear-Signature": "0" * 64}), (raw, unsigned),
                       (raw, {**headers, "Linear-Signature": ""}), (tampered, headers)):
        status, reply = _post(client, hook, body, sent)
        assert status == 401 and reply["error"]["code"] == "unauthorized", reply
    assert (_count(session, Checkin, org), _count(session, WebhookDelivery)) == before
    assert _link(session, org, 123).state == "unknown"


def test_a_stale_or_early_delivery_is_refused(client: FlaskClient, session: Session,
                                              linear: FakeLinear, org: Org, hook: str,
                                              now: datetime) -> None:
    linear.issues["ENG-123"].state = "completed"
    for offset in (-61, 61, -3600):
        linear.clock = (now + timedelta(seconds=offset)).timestamp
        status, reply = _post(client, hook, *linear.hook("ENG-123"))
        assert status == 401 and "webhookTimestamp" in reply["error"]["message"], reply
    body = linear.payload("ENG-123")
    del body["webhookTimestamp"]
    status, reply = _post(client, hook, *linear.sign(body))
    assert status == 400 and "webhookTimestamp" in reply["error"]["message"]
    assert _count(session, Checkin, org) == 0
    linear.clock = (now - timedelta(seconds=50)).timestamp  # within the minute
    assert _post(client, hook, *linear.hook("ENG-123"))[0] == 200


def test_a_redelivery_is_applied_once(client: FlaskClient, session: Session,
                                      linear: FakeLinear, org: Org, hook: str) -> None:
    linear.issues["ENG-123"].state = "completed"
    done = linear.hook("ENG-123", delivery="d-1")
    linear.issues["ENG-123"].state = "started"
    linear.issues["ENG-123"].updated_at += timedelta(minutes=1)
    reopened = linear.hook("ENG-123", delivery="d-2")
    assert _post(client, hook, *done)[1]["status"] == "applied"
    assert _post(client, hook, *reopened)[1]["status"] == "applied"
    assert _post(client, hook, *done) == (200, {"status": "duplicate"})
    assert _link(session, org, 123).closed is False
    assert _count(session, Checkin, org) == 2
    assert f"{org.workspace_id}:d-1" in set(session.scalars(select(WebhookDelivery.delivery_id)))


def test_an_older_event_arriving_late_is_ignored(client: FlaskClient, session: Session,
                                                 linear: FakeLinear, org: Org,
                                                 hook: str) -> None:
    issue = linear.issues["ENG-123"]
    issue.state = "started"
    older = linear.hook("ENG-123")
    issue.state, issue.updated_at = "completed", issue.updated_at + timedelta(minutes=1)
    assert _post(client, hook, *linear.hook("ENG-123"))[1]["changed"] == 1
    assert _post(client, hook, *older)[1]["changed"] == 0
    assert _link(session, org, 123).state == "closed"


def test_canceled_counts_as_done_only_when_the_connection_says_so(
        client: FlaskClient, session: Session, container: Container, linear: FakeLinear,
        org: Org, now: datetime, hook: str) -> None:
    linear.issues["ENG-123"].state = "canceled"
    assert _post(client, hook, *linear.hook("ENG-123"))[1]["checkins"] == 0
    assert (_link(session, org, 123).state, _link(session, org, 123).closed) == ("open", False)
    other = seed(session, now, name="beta", slack_id="U0B")
    attach.add(session=session, workspace_id=other.workspace_id, kr=other.krs["bugs"],
               url=ISSUE, now=now, actor_label="t", gitlab_hosts=[])
    session.commit()
    theirs = _connect(session, container, other, now, canceled_done=True)
    with container.session_factory() as s:
        conn = connections.by_hook_key(session=s, settings=container.settings,
                                       provider="linear",
                                       key=theirs.webhook_path.rsplit("/", 1)[1])
    assert conn is not None and conn.canceled_done and conn.webhook_secret
    linear.hook_secret = conn.webhook_secret
    assert _post(client, theirs.webhook_path, *linear.hook("ENG-123"))[1]["checkins"] == 1
    session.expire_all()
    assert session.scalars(select(IssueLink.closed).where(
        IssueLink.workspace_id == other.workspace_id)).one() is True
    assert _link(session, org, 123).closed is False  # the first workspace is untouched


def test_one_workspaces_secret_never_moves_another_workspace(
        client: FlaskClient, session: Session, container: Container, linear: FakeLinear,
        org: Org, now: datetime, hook: str) -> None:
    other = seed(session, now, name="beta", slack_id="U0B")
    attach.add(session=session, workspace_id=other.workspace_id, kr=other.krs["bugs"],
               url=ISSUE, now=now, actor_label="t", gitlab_hosts=[])
    session.commit()
    theirs = _connect(session, container, other, now)
    linear.issues["ENG-123"].state = "completed"
    signed_by_acme = linear.hook("ENG-123")
    # Acme's signature on beta's URL: refused, nothing moves anywhere.
    assert _post(client, theirs.webhook_path, *signed_by_acme)[0] == 401
    assert _post(client, hook, *signed_by_acme)[1]["changed"] == 1
    assert session.scalar(select(func.count()).select_from(Checkin).where(
        Checkin.workspace_id == other.workspace_id)) == 0


def test_other_types_unknown_keys_and_unlinked_issues(client: FlaskClient, session: Session,
                                                       linear: FakeLinear, org: Org,
                                                       hook: str, now: datetime) -> None:
    before = (_count(session, Checkin, org), _count(session, AuditEntry, org),
              _count(session, WebhookDelivery))
    comment = json.loads((PAYLOADS / "linear_comment_create.json").read_text())
    comment["webhookTimestamp"] = int(now.timestamp() * 1000)
    assert _post(client, hook, *linear.sign(comment)) == (202, {"status": "ignored"})
    project = {**linear.payload("ENG-123"), "type": "Project"}
    assert _post(client, hook, *linear.sign(project)) == (202, {"status": "ignored"})
    assert _post(client, hook, *linear.hook("ENG-900")) == (202, {"status": "unlinked"})
    status, reply = _post(client, "/webhooks/linear/not-a-key", *linear.hook("ENG-123"))
    assert status == 404 and reply["error"]["code"] == "not_found"
    # A GitHub connection's key is not a Linear one.
    assert _post(client, hook.replace("/linear/", "/github/"),
                 *linear.hook("ENG-123"))[0] == 404
    assert (_count(session, Checkin, org), _count(session, AuditEntry, org),
            _count(session, WebhookDelivery)) == before


@pytest.mark.parametrize("raw", [
    b"{not json", b"[1, 2]", b'"text"', b"{}", b"[" * 100_000, b"\xff\xfe",
])
def test_malformed_bodies_get_400(client: FlaskClient, session: Session, org: Org,
                                  linear: FakeLinear, hook: str, raw: bytes) -> None:
    status, reply = _post(client, hook, *linear.sign(raw))
    assert status == 400, reply
    assert reply["error"]["code"] == "bad_request" and reply["error"]["message"]
    assert _count(session, Checkin, org) == 0


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_bodies_never_get_a_server_error(client: FlaskClient, org: Org,
                                                linear: FakeLinear, hook: str,
                                                data: st.DataObject) -> None:
    body: dict[str, Any] = linear.payload("ENG-123")
    for key in data.draw(st.lists(st.sampled_from(["action", "type", "data", "url"]),
                                  max_size=2)):
        body[key] = data.draw(_json)
    for key in data.draw(st.lists(st.sampled_from(
            ["identifier", "state", "updatedAt", "title", "url"]), max_size=2)):
        if isinstance(body.get("data"), dict):
            body["data"][key] = data.draw(_json)
    status, reply = _post(client, hook, *linear.sign(body))
    assert status in (200, 202, 400), reply


def test_deliveries_are_counted_under_linear(client: FlaskClient, linear: FakeLinear,
                                             org: Org, hook: str) -> None:
    def counted(outcome: str) -> float:
        return WEBHOOK_EVENTS.labels("linear", outcome)._value.get()

    before = (counted("applied"), counted("unauthorized"), counted("ignored"))
    linear.issues["ENG-123"].state = "completed"
    _post(client, hook, *linear.hook("ENG-123"))
    raw, headers = linear.hook("ENG-123")
    _post(client, hook, raw, {**headers, "Linear-Signature": "0" * 64})
    _post(client, hook, *linear.sign({**linear.payload("ENG-123"), "type": "Cycle"}))
    assert (counted("applied"), counted("unauthorized"), counted("ignored")) == (
        before[0] + 1, before[1] + 1, before[2] + 1)
