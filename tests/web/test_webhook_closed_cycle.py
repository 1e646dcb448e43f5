"""A tracker webhook for an item linked to a closed cycle's KR: the link keeps the state, the
score does not move, no check-in is appended; after a reopen the redelivery moves it. The
daily reconciliation behaves the same (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Checkin, Cycle, IssueLink
from app.services.links import attach
from app.services.links import sync as issue_sync
from app.services.review import rounds
from tests.fakeforge import FakeGitLab, running
from tests.fixtures.web import GITLAB_SECRET, Org, seed, settings

URL = "https://gitlab.com/acme/web/-/issues/12"


@pytest.fixture()
def gitlab() -> Iterator[FakeGitLab]:
    with running(FakeGitLab()) as forge:
        assert isinstance(forge, FakeGitLab)
        forge.hook_secret, forge.token = GITLAB_SECRET, "glpat-test"
        forge.add("acme/web", "issue", 12, "opened")
        yield forge


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=URL,
               now=now, actor_label="t", gitlab_hosts=["gitlab.com"])
    session.get_one(Cycle, org.objective.cycle_id).phase = "closed"
    session.commit()
    return org


def _link(session: Session, org: Org) -> tuple[str, bool, list[Checkin]]:
    session.expire_all()
    link = session.scalars(select(IssueLink).where(IssueLink.kr_id == org.krs["bugs"].id)).one()
    notes = list(session.scalars(select(Checkin).where(Checkin.kr_id == org.krs["bugs"].id)))
    return link.state, link.closed, notes


def _reopen(session: Session, org: Org, now: datetime) -> None:
    rounds.reopen_cycle(session=session, workspace_id=org.workspace_id,
                        cycle=session.get_one(Cycle, org.objective.cycle_id),
                        today=date(2026, 3, 2), now=now, actor_id=None, actor_label="cli")
    session.commit()


def test_webhook_records_the_state_not_the_score(client: FlaskClient, session: Session,
                                                 gitlab: FakeGitLab, org: Org,
                                                 now: datetime) -> None:
    gitlab.items[("acme/web", "issue", 12)].state = "closed"
    body, headers = gitlab.hook("acme/web", "issue", 12)
    response = client.post("/webhooks/gitlab", data=body, headers=headers)
    assert response.status_code == 200
    assert response.get_json()["checkins"] == 0
    state, closed, notes = _link(session, org)
    assert (state, closed, notes) == ("closed", False, [])
    _reopen(session, org, now)
    # A new delivery of the same state (the tracker's retry, or the next event) moves it now.
    body, headers = gitlab.hook("acme/web", "issue", 12)
    assert client.post("/webhooks/gitlab", data=body, headers=headers).get_json()["checkins"] == 1
    state, closed, notes = _link(session, org)
    assert (state, closed, [n.score for n in notes]) == ("closed", True, [1.0])


def test_reconciliation_leaves_the_score_too(session: Session,
                                            session_factory: sessionmaker[Session],
                                            gitlab: FakeGitLab, org: Org, now: datetime) -> None:
    gitlab.drop_hooks = True
    gitlab.set_state("acme/web", "issue", 12, "closed")
    cfg = settings(OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4", OKR_GITLAB_TOKEN="glpat-test")

    def run() -> issue_sync.SyncReport:
        return issue_sync.run(session_factory=session_factory, settings=cfg, now=now,
                              workspace_id=org.workspace_id,
                              client_factory=issue_sync.default_client_factory(
                                  cfg, timeout=(2.0, 5.0)))

    report = run()
    assert (report.checked, report.checkins, report.errors) == (1, 0, [])
    assert _link(session, org) == ("closed", False, [])
    _reopen(session, org, now)
    assert run().checkins == 1
    assert _link(session, org)[1] is True
