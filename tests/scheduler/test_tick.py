"""The tick on a real database (SQLite and PostgreSQL) against the fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.domain import CheckinAnswer, CheckinSource
from app.models import Delivery, KeyResult, Person
from app.services.checkins import record as checkins
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts


def rows(factory: sessionmaker[Session], **where: str) -> list[Delivery]:
    with unit_of_work(factory) as s:
        q = select(Delivery).order_by(Delivery.due_at, Delivery.id)
        for key, value in where.items():
            q = q.where(getattr(Delivery, key) == value)
        return list(s.scalars(q))


def test_prompt_goes_out_at_ten_local_once(clock: Clock, fake_slack: FakeSlack,
                                           session_factory: sessionmaker[Session]) -> None:
    # Monday 2 March 2026, 09:00 UTC is 10:00 in Berlin (CET).
    clock.tick("2026-03-02T08:59:00+00:00")
    assert posts(fake_slack, "U0ADA") == []
    first = clock.tick("2026-03-02T09:00:30+00:00")
    assert first.enqueued["prompt:pending"] == 1
    sent = posts(fake_slack, "U0ADA")
    assert len(sent) == 1
    assert "time for your check-in" in sent[0]["text"]
    again = clock.tick("2026-03-02T09:01:00+00:00")
    assert sum(again.enqueued.values()) == 0
    assert len(posts(fake_slack, "U0ADA")) == 1
    (row,) = rows(session_factory, kind="prompt", target="U0ADA")
    assert row.state == "sent" and row.ts and row.occurrence == "2026-03-02"
    assert row.sent_at is not None


def test_each_person_at_their_own_ten(clock: Clock, fake_slack: FakeSlack,
                                      session_factory: sessionmaker[Session]) -> None:
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # Sunday; Monday arrives east to west
    for hour in range(0, 48):
        clock.tick(start + timedelta(hours=hour))
    prompts = rows(session_factory, kind="prompt")
    by_target = {r.target: r for r in prompts}
    assert set(by_target) == {"U0ADA", "U0BOB", "U0CAT", "U0DEV", "U0EVE"}  # Fay owns no KR
    for r in prompts:
        local = r.due_at.astimezone(__import__("zoneinfo").ZoneInfo(str(r.tz)))
        assert (local.strftime("%a %H:%M"), r.occurrence) == ("Mon 10:00", "2026-03-02")
        assert r.state == "sent"
    assert len(posts(fake_slack)) >= 5


def test_recent_checkin_on_every_kr_skips_the_prompt(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-rev")).one()
        ada = s.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
        checkins.record(session=s, workspace_id=kr.workspace_id, kr=kr,
                        data=CheckinAnswer(kr_key="kr-rev", value=120),
                        author_id=ada.id, actor_label="test", source=CheckinSource.CLI,
                        now=datetime(2026, 2, 28, 9, 0, tzinfo=UTC))
    clock.tick("2026-03-02T09:05:00+00:00")
    (row,) = rows(session_factory, kind="prompt", target="U0ADA")
    assert (row.state, row.error) == ("skipped", "checked in recently")
    assert posts(fake_slack, "U0ADA") == []
