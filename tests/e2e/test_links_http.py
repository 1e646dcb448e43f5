"""End to end over real HTTP: the served web app (app.web) on PostgreSQL, fake GitLab and
GitHub sending webhooks to it, reconciliation healing a lost one, the API reading the result."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.bootstrap import Container, utcnow
from app.db import unit_of_work
from app.models import Checkin, Cycle, Workspace
from app.services.links import attach, sync
from app.services.okrs import report as okrs
from app.services.tenancy import tokens
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fixtures.web import GITHUB_SECRET, GITLAB_SECRET, Org, seed, serve_web, settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture()
def served(fresh_engine: Engine) -> Iterator[tuple[str, Container]]:
    with serve_web(fresh_engine) as served:
        yield served


def _score(session: Session, org: Org, key: str) -> float:
    ws = session.get(Workspace, org.workspace_id)
    cycle = session.scalars(select(Cycle).where(Cycle.workspace_id == org.workspace_id)).one()
    assert ws is not None
    report = okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle,
                               today=date(2026, 3, 2), now=NOW,
                               settings=settings().scoring)
    view = report.key_result(key)
    assert view is not None
    return view.score


def test_close_on_the_tracker_moves_the_kr_end_to_end(served: tuple[str, Container]) -> None:
    base, container = served
    with unit_of_work(container.session_factory) as s:
        org = seed(s, NOW)
        for url in ("https://gitlab.com/acme/web/-/issues/12",
                    "https://github.com/acme/api/pull/7"):
            attach.add(session=s, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=url,
                      now=NOW, actor_label="t", gitlab_hosts=["gitlab.com"])
        secret = tokens.create(session=s, workspace_id=org.workspace_id, name="e2e",
                               now=NOW).secret
    kr_key = org.krs["bugs"].key
    with running(FakeGitLab()) as gitlab, running(FakeGitHub()) as github:
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        gitlab.hook_url, gitlab.hook_secret = f"{base}/webhooks/gitlab", GITLAB_SECRET
        github.hook_url, github.hook_secret = f"{base}/webhooks/github", GITHUB_SECRET
        gitlab.add("acme/web", "issue", 12, "opened")
        github.add("acme/api", "pull_request", 7, "open")

        # 1. Someone closes the issue on GitLab: the webhook arrives and the KR moves.
        response = gitlab.set_state("acme/web", "issue", 12, "closed")
        assert response is not None and response.status_code == 200
        assert response.json()["checkins"] == 1
        with unit_of_work(container.session_factory) as s:
            assert _score(s, org, kr_key) == 0.5

        # 2. The PR is merged but GitHub's webhook is lost: reconciliation heals it.
        github.drop_hooks = True
        github.set_state("acme/api", "pull_request", 7, "closed", merged=True)
        cfg = settings(OKR_GITHUB_API_URL=github.url, OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4")
        # The served app reads the real clock; so does this run, keeping history in order.
        report = sync.run(session_factory=container.session_factory, settings=cfg,
                                now=utcnow())
        assert (report.changed, report.checkins, report.errors) == (1, 1, [])

        # 3. A late redelivery of the first close changes nothing.
        body, headers = gitlab.hook("acme/web", "issue", 12, delivery=gitlab_delivery(gitlab))
        again = requests.post(f"{base}/webhooks/gitlab", data=body, headers=headers, timeout=5)
        assert again.json()["status"] == "duplicate"

    # 4. The API shows the score and why it moved.
    detail = requests.get(f"{base}/api/v1/key-results/{kr_key}",
                          headers={"Authorization": f"Bearer {secret}"}, timeout=5).json()
    assert detail["score"] == 1.0
    assert [h["note"] for h in detail["history"]] == [
        "acme/api#7 merged (found by reconciliation)", "acme/web#12 closed"]
    assert {h["source"] for h in detail["history"]} == {"issues"}
    with unit_of_work(container.session_factory) as s:
        assert len(s.scalars(select(Checkin)).all()) == 2
        assert _score(s, org, kr_key) == 1.0


def gitlab_delivery(forge: FakeGitLab) -> str:
    """The delivery id of the webhook the fake sent first."""
    return forge.delivered[0][0]
