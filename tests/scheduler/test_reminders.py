"""Planning-timeline reminders: presets, audiences, custom rules; once per cycle."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.calendar.timeline import Rule
from app.db import unit_of_work
from app.models import Cycle, Workspace
from app.services.errors import InvalidValue
from app.services.scheduling import schedules
from app.services.scheduling import timeline as timeline_rules
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts
from tests.scheduler.test_tick import rows

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def setup_q2(factory: sessionmaker[Session], preset: str) -> None:
    with unit_of_work(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        ws.timeline_preset = preset
        s.add(Cycle(workspace_id=ws.id, name="FY27-Q2", start_date=datetime(2026, 5, 1).date(),
                    end_date=datetime(2026, 7, 31).date(), phase="planning"))


def hourly(clock: Clock, start: datetime, hours: int, step: int = 1) -> None:
    for h in range(0, hours, step):
        clock.tick(start + timedelta(hours=h))


def test_gitlab_preset_posts_each_step_once(clock: Clock, fake_slack: FakeSlack,
                                            session_factory: sessionmaker[Session]) -> None:
    setup_q2(session_factory, "gitlab-product")
    hourly(clock, datetime(2026, 4, 16, 20, tzinfo=UTC), 16)  # Fri 17 Apr, 10:00 Berlin
    hourly(clock, datetime(2026, 4, 16, 20, tzinfo=UTC), 16)  # replayed: nothing new
    (post,) = posts(fake_slack, "C0ALL")  # to the top-level team's channel only
    assert "2 weeks to go: KR owners, enter your KRs and align them to their parent OKRs." \
        in post["text"]
    (row,) = rows(session_factory, kind="reminder")
    assert (row.occurrence, row.state) == ("FY27-Q2:gitlab-2w", "sent")
    assert row.due_at == datetime(2026, 4, 17, 8, 0, tzinfo=UTC)
    assert posts(fake_slack, "C0ENG") == []


def test_dm_audiences_get_it_at_their_own_ten(clock: Clock, fake_slack: FakeSlack,
                                              session_factory: sessionmaker[Session]) -> None:
    setup_q2(session_factory, "gitlab-product")
    # 1 week after Q1 ends (Thu 7 May): every KR owner of Q1, each at 10:00 local.
    hourly(clock, datetime(2026, 5, 6, 12, tzinfo=UTC), 36)
    reminders = rows(session_factory, kind="reminder")
    assert {r.target for r in reminders} == {"U0ADA", "U0BOB", "U0CAT", "U0DEV", "U0EVE"}
    for r in reminders:
        local = r.due_at.astimezone(schedules.zone(r.tz))
        assert (local.date().isoformat(), local.time()) == ("2026-05-07", time(10, 0))
        assert r.occurrence == "FY27-Q1:gitlab-end+1w" and r.state == "sent"


def test_owners_without_krs_and_custom_rules(clock: Clock, fake_slack: FakeSlack,
                                             session_factory: sessionmaker[Session]) -> None:
    setup_q2(session_factory, "okr-cycle")
    with unit_of_work(session_factory) as s:
        ws = s.scalars(select(Workspace)).one()
        timeline_rules.save_rule(session=s, ws=ws, rule=Rule(
            key="kickoff", anchor="start", offset_days=-10, audience="usergroup",
            usergroup="S0LEADS", channel="C0ENG", at=time(9, 30),
            text="{{ cycle }} starts in {{ days_to_start }} days: book the kickoff."),
            actor_label="test", now=NOW)
    # okr-cycle's drafting nudge: a week before Q2, to Q1's KR owners with no KR in Q2 yet.
    hourly(clock, datetime(2026, 4, 20, 20, tzinfo=UTC), 24 * 5, step=4)
    targets = {r.target for r in rows(session_factory, kind="reminder")}
    assert {"U0ADA", "U0BOB", "U0CAT", "U0DEV", "U0EVE", "C0ENG"} <= targets
    (kick,) = [p for p in posts(fake_slack, "C0ENG") if "kickoff" in p["text"]]
    assert kick["text"] == "<!subteam^S0LEADS> FY27-Q2 starts in 10 days: book the kickoff."


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule(key="x", anchor="start", offset_days=0, audience="channel",
              text="{{ cycel }} starts"), "text"),
        (Rule(key="y", anchor="start", offset_days=0, audience="channel",
              text="{% for %}"), "text"),
        (Rule(key="gitlab-2w", anchor="start", offset_days=0, audience="channel",
              text="hi"), "key"),
        (Rule(key="z", anchor="soon", offset_days=0, audience="channel", text="hi"), "anchor"),
    ],
)
def test_bad_custom_rules_change_nothing(session_factory: sessionmaker[Session], org: int,
                                         rule: Rule, field: str) -> None:
    with unit_of_work(session_factory) as s:
        ws = s.scalars(select(Workspace)).one()
        with pytest.raises(InvalidValue) as err:
            timeline_rules.save_rule(session=s, ws=ws, rule=rule, actor_label="test", now=NOW)
        assert err.value.field == field
