"""Tracker connections per workspace, over real HTTP: the served web app on PostgreSQL, two
workspaces, fake GitHub and GitLab on 127.0.0.1.

Workspace A has a private repository; workspace B must never read it through A's token, and
a webhook signed with A's secret must never move B's key results.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import requests
from sqlalchemy import Engine, select

from app.bootstrap import Container, utcnow
from app.db import unit_of_work
from app.models import Checkin, IssueLink, KeyResult
from app.services.links import attach, connections, sync
from app.services.tenancy import retention, tokens
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fixtures.web import Org, seed, serve_web

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET_ISSUE = "https://github.com/acme/secret/issues/5"
KEY = "an operator key for the tests"


@contextmanager
def two_workspaces(engine: Engine, **extra: object) -> Iterator[tuple[str, Container, Org, Org]]:
    with serve_web(engine, OKR_SECRET_KEY=KEY, **extra) as (base, container):
        with unit_of_work(container.session_factory) as s:
            a, b = seed(s, NOW, name="acme", slack_id="U0A"), seed(s, NOW, name="beta",
                                                                   slack_id="U0B")
        yield base, container, a, b


def _link(container: Container, org: Org, url: str) -> int:
    with unit_of_work(container.session_factory) as s:
        kr = s.get(KeyResult, org.krs["bugs"].id)
        assert kr is not None
        row, _ = attach.add(session=s, workspace_id=org.workspace_id, kr=kr, url=url, now=NOW,
                            actor_label="t", gitlab_hosts=["gitlab.com"])
        return row.id


def _api_links(base: str, container: Container, org: Org) -> list[dict[str, object]]:
    with unit_of_work(container.session_factory) as s:
        secret = tokens.create(session=s, workspace_id=org.workspace_id, name="t",
                               now=NOW).secret
    detail = requests.get(f"{base}/api/v1/key-results/{org.krs['bugs'].key}",
                          headers={"Authorization": f"Bearer {secret}"}, timeout=5)
    assert detail.status_code == 200, detail.text
    links: list[dict[str, object]] = detail.json()["links"]
    return links


def _private_github() -> FakeGitHub:
    forge = FakeGitHub()
    forge.private, forge.private_token = {"acme/secret"}, "ghp-acme-only"
    forge.add("acme/secret", "issue", 5, "open", title="Acquisition of Beta Corp")
    return forge


def test_workspace_b_cannot_read_a_private_title_through_the_operator_token(
        fresh_engine: Engine) -> None:
    """Finding: the one OKR_GITHUB_TOKEN fetched every workspace's links. Now it is the
    connection of the workspace OKR_TRACKER_WORKSPACE names, and only that one's."""
    with running(_private_github()) as github, two_workspaces(
            fresh_engine, OKR_GITHUB_API_URL=github.url, OKR_GITHUB_TOKEN="ghp-acme-only",
            OKR_TRACKER_WORKSPACE="acme") as (base, container, a, b):
        for org in (a, b):
            link_id = _link(container, org, SECRET_ISSUE)
            # What `/okr link` and `okr link` do right after linking.
            sync.run(session_factory=container.session_factory, settings=container.settings,
                     now=utcnow(), link_ids=[link_id], prune=False)
        assert [lk["title"] for lk in _api_links(base, container, a)] == [
            "Acquisition of Beta Corp"]
        assert [lk["title"] for lk in _api_links(base, container, b)] == [None]
        # B's fetch went out without A's credentials.
        assert [h.auth for h in github.api_hits()] == ["Bearer ghp-acme-only", None]


def test_each_workspace_reads_with_its_own_stored_connection(fresh_engine: Engine) -> None:
    with running(_private_github()) as github, two_workspaces(
            fresh_engine, OKR_GITHUB_API_URL=github.url) as (base, container, a, b):
        with unit_of_work(container.session_factory) as s:
            connections.add(session=s, settings=container.settings, workspace_id=a.workspace_id,
                            provider="github", host="github.com", token="ghp-acme-only",
                            now=NOW, actor_label="t")
            connections.add(session=s, settings=container.settings, workspace_id=b.workspace_id,
                            provider="github", host="github.com", token="ghp-beta-token-xyz",
                            now=NOW, actor_label="t")
        for org in (a, b):
            _link(container, org, SECRET_ISSUE)
        report = sync.run(session_factory=container.session_factory,
                          settings=container.settings, now=utcnow())
        assert report.missing == ["acme/secret#5"]  # B's token does not see it
        assert {h.auth for h in github.api_hits()} == {"Bearer ghp-acme-only",
                                                        "Bearer ghp-beta-token-xyz"}
        assert [lk["title"] for lk in _api_links(base, container, b)] == [None]
        assert [lk["title"] for lk in _api_links(base, container, a)] == [
            "Acquisition of Beta Corp"]


def _github_event(secret: str, project: str, number: int, state: str) -> tuple[bytes, dict[
        str, str]]:
    raw = json.dumps({"action": state, "issue": {"number": number, "state": state,
                                                 "title": "x"},
                      "repository": {"full_name": project,
                                     "html_url": f"https://github.com/{project}"}}).encode()
    sig = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-GitHub-Event": "issues",
                 "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": f"sha256={sig}"}


def _scores(container: Container, org: Org) -> list[float | None]:
    with unit_of_work(container.session_factory) as s:
        return list(s.scalars(select(Checkin.score).where(
            Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id)))


def test_a_webhook_moves_only_its_own_workspace(fresh_engine: Engine) -> None:
    with two_workspaces(fresh_engine) as (base, container, a, b):
        with unit_of_work(container.session_factory) as s:
            hook_a = connections.add(session=s, settings=container.settings,
                                     workspace_id=a.workspace_id, provider="github",
                                     host="github.com", token=None, now=NOW, actor_label="t")
            hook_b = connections.add(session=s, settings=container.settings,
                                     workspace_id=b.workspace_id, provider="github",
                                     host="github.com", token=None, now=NOW, actor_label="t")
        for org in (a, b):
            _link(container, org, "https://github.com/acme/api/issues/8")
        _link(container, b, "https://github.com/beta/app/issues/3")

        # A forges an event with its own secret for an item only B links: nothing moves.
        raw, headers = _github_event(hook_a.webhook_secret, "beta/app", 3, "closed")
        forged = requests.post(base + hook_a.webhook_path, data=raw, headers=headers, timeout=5)
        assert (forged.status_code, forged.json()) == (202, {"status": "unlinked"})
        # ...or on B's URL: A's secret is not B's.
        forged = requests.post(base + hook_b.webhook_path, data=raw, headers=headers, timeout=5)
        assert forged.status_code == 401
        # An item both link: A's event moves A's key result only.
        raw, headers = _github_event(hook_a.webhook_secret, "acme/api", 8, "closed")
        applied = requests.post(base + hook_a.webhook_path, data=raw, headers=headers,
                                timeout=5)
        assert applied.status_code == 200 and applied.json()["links"] == 1
        assert _scores(container, a) == [1.0] and _scores(container, b) == []
        with unit_of_work(container.session_factory) as s:
            states = dict(s.execute(select(IssueLink.workspace_id, IssueLink.state).where(
                IssueLink.number == 8)).tuples().all())
        assert states == {a.workspace_id: "closed", b.workspace_id: "unknown"}
        # An unknown key is a 404; the environment URL refuses with two workspaces and
        # no OKR_TRACKER_WORKSPACE.
        assert requests.post(f"{base}/webhooks/github/nope", data=raw, headers=headers,
                             timeout=5).status_code == 404
        assert requests.post(f"{base}/webhooks/github", data=raw, headers=headers,
                             timeout=5).status_code == 401


def test_the_environment_webhook_applies_to_the_named_workspace_only(
        fresh_engine: Engine) -> None:
    with two_workspaces(fresh_engine, OKR_TRACKER_WORKSPACE="beta") as (base, container, a, b):
        for org in (a, b):
            _link(container, org, "https://github.com/acme/api/issues/8")
        secret = container.settings.github_webhook_secret
        assert secret
        raw, headers = _github_event(secret, "acme/api", 8, "closed")
        response = requests.post(f"{base}/webhooks/github", data=raw, headers=headers,
                                 timeout=5)
        assert response.status_code == 200 and response.json()["links"] == 1
        assert _scores(container, b) == [1.0] and _scores(container, a) == []


def test_a_redirect_to_another_origin_never_carries_the_token(fresh_engine: Engine) -> None:
    """Finding: requests follows redirects and strips only Authorization, so a 302 carried
    PRIVATE-TOKEN to another origin. Redirects across origins are no longer followed."""
    with running(FakeGitLab()) as elsewhere, running(FakeGitLab()) as gitlab:
        gitlab.redirect_to = elsewhere.url
        elsewhere.add("acme/web", "issue", 12, "closed")
        with two_workspaces(fresh_engine, OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4",
                            OKR_GITLAB_TOKEN="glpat-operator-secret",
                            OKR_TRACKER_WORKSPACE="acme") as (_base, container, a, _b):
            _link(container, a, "https://gitlab.com/acme/web/-/issues/12")
            report = sync.run(session_factory=container.session_factory,
                              settings=container.settings, now=utcnow())
        assert [h.auth for h in gitlab.api_hits()] == ["glpat-operator-secret"]
        assert elsewhere.api_hits() == []
        assert report.checked == 0 and "redirected to another origin" in report.errors[0]


def test_loopback_trackers_are_refused_unless_allowed(fresh_engine: Engine) -> None:
    with running(FakeGitLab()) as gitlab, two_workspaces(
            fresh_engine, OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4", OKR_GITLAB_TOKEN="glpat-x",
            OKR_TRACKER_WORKSPACE="acme", OKR_ALLOW_PRIVATE_HOSTS="") as (_b, container, a, _o):
        gitlab.add("acme/web", "issue", 12, "closed")
        _link(container, a, "https://gitlab.com/acme/web/-/issues/12")
        report = sync.run(session_factory=container.session_factory,
                          settings=container.settings, now=utcnow())
        assert gitlab.api_hits() == []
        assert "127.0.0.1" in report.errors[0] and "OKR_ALLOW_PRIVATE_HOSTS" in report.errors[0]


def test_an_uninstalled_workspace_takes_no_webhook_and_is_not_synced(
        fresh_engine: Engine) -> None:
    with two_workspaces(fresh_engine) as (base, container, a, _b):
        with unit_of_work(container.session_factory) as s:
            hook_a = connections.add(session=s, settings=container.settings,
                                     workspace_id=a.workspace_id, provider="github",
                                     host="github.com", token=None, now=NOW, actor_label="t")
        _link(container, a, "https://github.com/acme/api/issues/8")
        with unit_of_work(container.session_factory) as s:
            retention.disable(session=s, workspace_id=a.workspace_id, now=NOW,
                              retention_days=30)
        raw, headers = _github_event(hook_a.webhook_secret, "acme/api", 8, "closed")
        refused = requests.post(base + hook_a.webhook_path, data=raw, headers=headers,
                                timeout=5)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "workspace_disabled"
        assert _scores(container, a) == []
        report = sync.run(session_factory=container.session_factory,
                          settings=container.settings, now=utcnow(), prune=False)
        assert report.checked == 0 and report.requests == 0
