"""POST /webhooks/gitlab and /webhooks/github: auth, bad bodies, unlinked items, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.bootstrap import Container
from app.models import AuditEntry, Checkin, IssueLink, WebhookDelivery
from app.services.links import attach
from tests.fakeforge import FakeGitHub, FakeGitLab
from tests.fixtures.web import GITHUB_SECRET, GITLAB_SECRET, Org, flask_app, seed

HOSTS = ["gitlab.com"]


@pytest.fixture()
def gitlab() -> FakeGitLab:
    forge = FakeGitLab()  # not started: only its payload builder is used here
    forge.hook_secret = GITLAB_SECRET
    forge.add("acme/web", "issue", 12, "opened")
    forge.add("acme/web", "merge_request", 5, "opened")
    forge.add("acme/other", "issue", 1, "opened")
    return forge


@pytest.fixture()
def github() -> FakeGitHub:
    forge = FakeGitHub()
    forge.hook_secret = GITHUB_SECRET
    forge.add("acme/api", "pull_request", 7, "open")
    forge.add("acme/api", "issue", 8, "open")
    return forge


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    for url in ("https://gitlab.com/acme/web/-/issues/12",
                "https://gitlab.com/acme/web/-/merge_requests/5",
                "https://github.com/acme/api/pull/7", "https://github.com/acme/api/issues/8"):
        attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
                  now=now, actor_label="t", gitlab_hosts=HOSTS)
    session.commit()
    return org


def _count(session: Session, model: type, org: Org | None = None) -> int:
    query = select(func.count()).select_from(model)
    if org is not None:
        query = query.where(model.workspace_id == org.workspace_id)  # type: ignore[attr-defined]
    return session.scalar(query) or 0


def _post(client: FlaskClient, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    response = client.post(path, data=body, headers=headers)
    return response.status_code, response.get_json()


def _close(forge: FakeGitLab | FakeGitHub, project: str, kind: str, number: int,
           state: str = "closed", merged: bool = False) -> None:
    item = forge.items[(project, kind, number)]
    item.state, item.merged = state, merged


def test_gitlab_close_and_reopen_move_the_score(client: FlaskClient, session: Session,
                                                gitlab: FakeGitLab, org: Org) -> None:
    _close(gitlab, "acme/web", "issue", 12)
    status, body = _post(client, "/webhooks/gitlab", *gitlab.hook("acme/web", "issue", 12))
    assert (status, body) == (200, {"status": "applied", "links": 1, "changed": 1,
                                    "checkins": 1})
    _close(gitlab, "acme/web", "merge_request", 5, "merged")
    _post(client, "/webhooks/gitlab", *gitlab.hook("acme/web", "merge_request", 5))
    _close(gitlab, "acme/web", "issue", 12, "opened")
    _post(client, "/webhooks/gitlab", *gitlab.hook("acme/web", "issue", 12))
    notes = session.execute(select(Checkin.note, Checkin.score, Checkin.source)
                            .where(Checkin.kr_id == org.krs["bugs"].id)
                            .order_by(Checkin.id)).all()
    assert [tuple(n) for n in notes] == [("acme/web#12 closed", 0.25, "issues"),
                                         ("acme/web!5 merged", 0.5, "issues"),
                                         ("acme/web#12 reopened", 0.25, "issues")]


def test_github_merge_and_issue_close(client: FlaskClient, session: Session,
                                      github: FakeGitHub, org: Org) -> None:
    _close(github, "acme/api", "pull_request", 7, "closed", merged=True)
    status, body = _post(client, "/webhooks/github", *github.hook("acme/api", "pull_request", 7))
    assert (status, body["checkins"]) == (200, 1)
    _close(github, "acme/api", "issue", 8)
    _post(client, "/webhooks/github", *github.hook("acme/api", "issue", 8))
    scores = session.scalars(select(Checkin.score).where(Checkin.kr_id == org.krs["bugs"].id)
                             .order_by(Checkin.id)).all()
    assert scores == [0.25, 0.5]


def test_bad_secrets_get_401_and_store_nothing(client: FlaskClient, session: Session,
                                               gitlab: FakeGitLab, github: FakeGitHub,
                                               org: Org) -> None:
    deliveries = _count(session, WebhookDelivery)
    _close(gitlab, "acme/web", "issue", 12)
    body, headers = gitlab.hook("acme/web", "issue", 12)
    for token in ("wrong", "", None):
        bad = {k: v for k, v in headers.items() if k != "X-Gitlab-Token"}
        if token is not None:
            bad["X-Gitlab-Token"] = token
        status, reply = _post(client, "/webhooks/gitlab", body, bad)
        assert status == 401 and reply["error"]["code"] == "unauthorized"
    body, headers = github.hook("acme/api", "issue", 8)
    tampered = body.replace(b'"open"', b'"closed"')
    status, _ = _post(client, "/webhooks/github", tampered, headers)
    assert status == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    assert _post(client, "/webhooks/github", body, unsigned)[0] == 401
    assert (_count(session, Checkin, org), _count(session, WebhookDelivery)) == (0, deliveries)


def test_unconfigured_secret_refuses_everything(container: Container, now: datetime,
                                                gitlab: FakeGitLab, org: Org) -> None:
    container.settings.gitlab_webhook_secret = None
    with flask_app(container, lambda: now).test_client() as c:
        status, reply = _post(c, "/webhooks/gitlab", *gitlab.hook("acme/web", "issue", 12))
    assert status == 401 and "OKR_GITLAB_WEBHOOK_SECRET" in reply["error"]["message"]


def _sign(raw: bytes) -> dict[str, str]:
    sig = hmac.new(GITHUB_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={sig}", "X-GitHub-Event": "issues",
            "Content-Type": "application/json"}


@pytest.mark.parametrize("raw", [
    b"{not json", b"[1, 2]", b'"text"', b"{}", b'{"issue": {"number": 8}}',
    b'{"issue": {"number": "8", "state": "open"}, "repository": {"full_name": "a/b", '
    b'"html_url": "https://github.com/a/b"}}',
    b'{"issue": {"number": 8, "state": "weird"}, "repository": {"full_name": "a/b", '
    b'"html_url": "https://github.com/a/b"}}',
    b"[" * 100_000, b"\xff\xfe",
])
def test_malformed_github_bodies_get_400(client: FlaskClient, session: Session, org: Org,
                                         raw: bytes) -> None:
    deliveries = _count(session, WebhookDelivery)
    status, reply = _post(client, "/webhooks/github", raw, _sign(raw))
    assert status == 400, reply
    assert reply["error"]["code"] == "bad_request" and reply["error"]["message"]
    assert _count(session, WebhookDelivery) == deliveries


@pytest.mark.parametrize("body", [
    "nope", {"object_kind": 3}, {"object_kind": "issue"},
    {"object_kind": "issue", "project": {"path_with_namespace": "a/b", "web_url": "x"},
     "object_attributes": {"iid": 1, "state": "opened"}},
    {"object_kind": "merge_request", "project": {"path_with_namespace": "a/b",
                                                 "web_url": "https://gitlab.com/a/b"},
     "object_attributes": {"iid": -1, "state": "merged"}},
])
def test_malformed_gitlab_bodies_get_400(client: FlaskClient, org: Org, body: object) -> None:
    raw = json.dumps(body).encode()
    status, _ = _post(client, "/webhooks/gitlab", raw, {"X-Gitlab-Token": GITLAB_SECRET,
                                                        "Content-Type": "application/json"})
    assert status == 400


def test_unlinked_and_other_events_get_202_and_store_nothing(
        client: FlaskClient, session: Session, gitlab: FakeGitLab, github: FakeGitHub,
        org: Org) -> None:
    before = (_count(session, Checkin, org), _count(session, AuditEntry, org),
              _count(session, WebhookDelivery))
    _close(gitlab, "acme/other", "issue", 1)
    assert _post(client, "/webhooks/gitlab", *gitlab.hook("acme/other", "issue", 1)) == (
        202, {"status": "unlinked"})
    push = json.dumps({"object_kind": "push", "ref": "main"}).encode()
    assert _post(client, "/webhooks/gitlab", push, {"X-Gitlab-Token": GITLAB_SECRET})[0] == 202
    raw = b'{"zen": "Keep it simple"}'
    headers = {**_sign(raw), "X-GitHub-Event": "ping"}
    assert _post(client, "/webhooks/github", raw, headers) == (200, {"status": "pong"})
    headers["X-GitHub-Event"] = "push"
    assert _post(client, "/webhooks/github", raw, headers)[0] == 202
    assert (_count(session, Checkin, org), _count(session, AuditEntry, org),
            _count(session, WebhookDelivery)) == before


def test_redelivery_is_applied_once(client: FlaskClient, session: Session,
                                    github: FakeGitHub, gitlab: FakeGitLab, org: Org) -> None:
    _close(github, "acme/api", "issue", 8)
    close = github.hook("acme/api", "issue", 8, delivery="d-1")
    _close(github, "acme/api", "issue", 8, "open")
    reopen = github.hook("acme/api", "issue", 8, delivery="d-2")
    assert _post(client, "/webhooks/github", *close)[1]["status"] == "applied"
    assert _post(client, "/webhooks/github", *reopen)[1]["status"] == "applied"
    # The close is redelivered after the reopen: it must not close the issue again.
    assert _post(client, "/webhooks/github", *close) == (200, {"status": "duplicate"})
    link = session.scalars(select(IssueLink).where(
        IssueLink.number == 8, IssueLink.workspace_id == org.workspace_id)).one()
    assert link.closed is False
    assert _count(session, Checkin, org) == 2
    # GitLab: Idempotency-Key wins over X-Gitlab-Event-UUID when both are sent.
    _close(gitlab, "acme/web", "issue", 12)
    body, headers = gitlab.hook("acme/web", "issue", 12, delivery="u-1")
    headers["Idempotency-Key"] = "k-1"
    _post(client, "/webhooks/gitlab", body, headers)
    headers["X-Gitlab-Event-UUID"] = "u-2"
    assert _post(client, "/webhooks/gitlab", body, headers)[1]["status"] == "duplicate"
    # Delivery ids are remembered per workspace.
    ids = set(session.scalars(select(WebhookDelivery.delivery_id)))
    ws = org.workspace_id
    assert {f"{ws}:d-1", f"{ws}:d-2", f"{ws}:k-1"} <= ids
    assert not {f"{ws}:u-1", f"{ws}:u-2"} & ids


def test_the_environment_webhook_refuses_when_several_workspaces_link_the_item(
        client: FlaskClient, session: Session, gitlab: FakeGitLab, org: Org,
        now: datetime) -> None:
    """One secret for every tenant used to move every workspace's links; with several
    workspaces and none named by OKR_TRACKER_WORKSPACE it now moves none."""
    other = seed(session, now, name="beta", slack_id="U0B")
    attach.add(session=session, workspace_id=other.workspace_id, kr=other.krs["bugs"],
              url="https://gitlab.com/ACME/web/-/issues/12", now=now, actor_label="t",
              gitlab_hosts=HOSTS)
    session.commit()
    _close(gitlab, "acme/web", "issue", 12)
    status, body = _post(client, "/webhooks/gitlab", *gitlab.hook("acme/web", "issue", 12))
    assert status == 401 and "several workspaces" in body["error"]["message"]
    assert _count(session, Checkin, org) == 0
    assert session.scalar(select(Checkin.score).where(
        Checkin.kr_id == other.krs["bugs"].id)) is None


def test_too_large_body_gets_413(client: FlaskClient, org: Org) -> None:
    raw = b" " * (5 * 1024 * 1024 + 1)
    status, reply = _post(client, "/webhooks/github", raw, _sign(raw))
    assert status == 413 and reply["error"]["code"] == "too_large"


def test_database_down_gets_503_json(container: Container, now: datetime,
                                     gitlab: FakeGitLab, org: Org,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("app.services.links.webhooks.handle", broken)
    with flask_app(container, lambda: now).test_client() as c:
        response = c.post("/webhooks/gitlab", data=gitlab.hook("acme/web", "issue", 12)[0],
                          headers=gitlab.hook("acme/web", "issue", 12)[1])
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.headers["Retry-After"] == "5"


def test_wrong_method_and_path_get_json(client: FlaskClient) -> None:
    response = client.get("/webhooks/gitlab")
    assert response.status_code == 405 and response.get_json()["error"]["code"] == (
        "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    response = client.post("/webhooks/bitbucket")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)
_near_gitlab = st.fixed_dictionaries({
    "object_kind": st.sampled_from(["issue", "merge_request", "push", ""]),
    "project": st.fixed_dictionaries({}, optional={
        "path_with_namespace": st.sampled_from(["acme/web", "a", ""]) | _json,
        "web_url": st.sampled_from(["https://gitlab.com/acme/web", "http://[::1", ""]) | _json}),
    "object_attributes": st.fixed_dictionaries({}, optional={
        "iid": st.integers(-2, 2**40) | _json, "state": st.sampled_from(
            ["opened", "closed", "merged", "locked", "x"]) | _json,
        "updated_at": st.text(max_size=30) | _json, "title": _json}),
})


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(body=_near_gitlab | _json)
def test_fuzzed_gitlab_bodies_never_get_a_server_error(client: FlaskClient, org: Org,
                                                       body: object) -> None:
    status, reply = _post(client, "/webhooks/gitlab", json.dumps(body).encode(),
                          {"X-Gitlab-Token": GITLAB_SECRET, "Content-Type": "application/json"})
    assert status in (200, 202, 400), reply
