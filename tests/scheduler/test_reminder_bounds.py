"""A reminder whose admin text is unbounded (saved before the limits, or edited in the
database) still goes out at once with the default text; the values it is rendered with are
escaped."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Cycle, TimelineRule, Workspace
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts
from tests.scheduler.test_tick import rows

PAYLOAD = "<!channel> <http://evil.example|reset password> & @here"
NESTED = ("{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}"
          "{% endfor %}")


def add_rule(factory: sessionmaker[Session], key: str, text: str, cycle_name: str) -> None:
    with unit_of_work(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        s.add(Cycle(workspace_id=ws.id, name=cycle_name, start_date=datetime(2026, 5, 1).date(),
                    end_date=datetime(2026, 7, 31).date(), phase="planning"))
        s.add(TimelineRule(workspace_id=ws.id, key=key, anchor="start", offset_days=-10,
                           at="09:30", audience="channel", channel="C0ENG", text=text,
                           enabled=True, created_at=datetime(2026, 4, 1, tzinfo=UTC)))


def run_day(clock: Clock) -> None:
    start = datetime(2026, 4, 21, 6, tzinfo=UTC)  # 21 Apr, 10 days before 1 May
    for h in range(0, 6):
        clock.tick(start + timedelta(hours=h))


def test_unbounded_template_falls_back_fast(clock: Clock, fake_slack: FakeSlack,
                                            session_factory: sessionmaker[Session],
                                            caplog: pytest.LogCaptureFixture) -> None:
    add_rule(session_factory, "loops", NESTED, "FY27-Q2")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="scheduler.render"):
        run_day(clock)
    assert time.monotonic() - started < 5.0
    (post,) = posts(fake_slack, "C0ENG")
    assert post["text"] == "A planning-timeline reminder for *FY27-Q2* (10 days before the start)."
    (row,) = [r for r in rows(session_factory, kind="reminder") if r.target == "C0ENG"]
    assert row.state == "sent"
    (record,) = [r for r in caplog.records if r.getMessage() == "reminder.text_failed"]
    assert "range may count at most 100 items" in record.problem  # type: ignore[attr-defined]


def test_template_variables_are_escaped(clock: Clock, fake_slack: FakeSlack,
                                        session_factory: sessionmaker[Session]) -> None:
    add_rule(session_factory, "kickoff", "{{ cycle }} starts in {{ days_to_start }} days.",
             PAYLOAD)
    run_day(clock)
    (post,) = posts(fake_slack, "C0ENG")
    shown = post["text"] + str(post["blocks"])
    assert "<!channel>" not in shown and "<http://evil" not in shown
    assert post["text"].startswith("&lt;!channel&gt; &lt;http://evil.example|reset password&gt; "
                                   "&amp; @here starts in 10 days.")
