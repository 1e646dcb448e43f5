"""Closing a linked issue reaches the team's next digest: webhook -> score -> digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from tests.fakeforge import FakeGitLab
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures.scheduler import ORG, Clock, make_settings, posts, seed
from tests.fixtures.web import GITHUB_SECRET, GITLAB_SECRET, flask_app

__all__ = ["fake_slack"]

QUALITY = """
  - id: quality
    cycle: FY27-Q1
    team: eng
    owner: U0BOB
    title: Ship onboarding without bugs
    key_results:
      - id: kr-bugs
        title: Close the onboarding bugs
        owner: U0CAT
        type: issues
        links: ["https://gitlab.com/acme/web/-/issues/12", "https://github.com/acme/api/pull/7"]
"""


def test_closed_issue_shows_in_the_next_digest(session_factory: sessionmaker[Session],
                                               db_engine: Engine,
                                               fake_slack: FakeSlack) -> None:
    seed(session_factory, ORG + QUALITY)
    settings = make_settings(fake_slack, OKR_GITLAB_WEBHOOK_SECRET=GITLAB_SECRET,
                             OKR_GITHUB_WEBHOOK_SECRET=GITHUB_SECRET)
    clock = Clock(session_factory, settings)
    clock.tick("2026-03-06T15:00:30+00:00")  # Friday 16:00 in Berlin: the first digest
    first = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Ship onboarding without bugs" in first and "acme/web#12" not in first

    forge = FakeGitLab()  # only its webhook payloads are needed
    forge.hook_secret = GITLAB_SECRET
    forge.add("acme/web", "issue", 12, "closed")
    container = Container(settings=settings, engine=db_engine, session_factory=session_factory)
    app = flask_app(container, lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    body, headers = forge.hook("acme/web", "issue", 12)
    with app.test_client() as client:
        response = client.post("/webhooks/gitlab", data=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["checkins"] == 1

    clock.tick("2026-03-13T15:00:30+00:00")  # the next Friday's digest
    latest = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Ship onboarding without bugs* · 50% · :arrow_up_small: +50 pts" in latest
    assert "acme/web#12 closed" in latest
