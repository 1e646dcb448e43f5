"""Working days, holidays and quiet hours through the tick (SQLite and PostgreSQL): prompts
move to the person's next working day and wait for their working hours, channel reminders move
back to the organisation's previous working day, DM reminders follow their recipient."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Cycle, Delivery, Person, Workspace
from app.services.scheduling import schedules
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts
from tests.scheduler.test_tick import rows

SUN_THU = ["sun", "mon", "tue", "wed", "thu"]


def set_person(factory: sessionmaker[Session], slack_id: str, **values: Any) -> None:
    with unit_of_work(factory) as s:
        person = s.scalars(select(Person).where(Person.slack_id == slack_id)).one()
        for key, value in values.items():
            setattr(person, key, value)


def ticks(clock: Clock, start: str, hours: int, step: int = 1) -> None:
    first = datetime.fromisoformat(start)
    for h in range(0, hours, step):
        clock.tick(first + timedelta(hours=h))


def local(row: Delivery) -> datetime:
    return row.due_at.astimezone(schedules.zone(row.tz))


def prompt(factory: sessionmaker[Session], target: str, occurrence: str) -> Delivery:
    (row,) = [r for r in rows(factory, kind="prompt", target=target)
              if r.occurrence == occurrence]
    return row


def test_sunday_to_thursday_in_jerusalem_is_prompted_sunday_not_friday(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    set_person(session_factory, "U0DEV", tz="Asia/Jerusalem", work_days=SUN_THU,
               checkin_schedule={"cadence": "weekly", "day": "fri", "time": "10:00"})
    ticks(clock, "2026-03-05T20:00:00+00:00", 24 * 3)  # Thu evening to Sun evening
    row = prompt(session_factory, "U0DEV", "2026-03-06")
    assert local(row).strftime("%a %d %b %H:%M") == "Sun 08 Mar 10:00"
    assert (row.state, row.payload["moved_from"], row.payload["reason"]) == (
        "sent", "2026-03-06", "Friday")
    assert len([p for p in posts(fake_slack, "U0DEV") if "check-in" in str(p["text"])]) == 1


def test_easter_monday_in_bavaria_moves_while_new_york_is_prompted_monday(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    set_person(session_factory, "U0ADA", holiday_calendar="DE-BY")
    set_person(session_factory, "U0BOB", holiday_calendar="US")  # the org's calendar is DE
    ticks(clock, "2026-04-06T00:00:00+00:00", 48, step=2)
    ada = prompt(session_factory, "U0ADA", "2026-04-06")
    bob = prompt(session_factory, "U0BOB", "2026-04-06")
    assert local(ada).strftime("%a %H:%M") == "Tue 10:00" and ada.state == "sent"
    assert ada.payload["reason"] == "Easter Monday"
    assert local(bob).strftime("%a %H:%M") == "Mon 10:00" and bob.state == "sent"
    assert not (bob.payload or {}).get("moved_from")


def test_early_and_evening_prompts_wait_for_working_hours(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    set_person(session_factory, "U0ADA", checkin_schedule={"day": "mon", "time": "07:00"})
    set_person(session_factory, "U0BOB", checkin_schedule={"day": "fri", "time": "21:00"})
    set_person(session_factory, "U0EVE", work_hours="11:00-19:00")
    with unit_of_work(session_factory) as s:
        s.scalars(select(Workspace)).one().work_hours = "09:00-18:00"  # the org's default
    ticks(clock, "2026-03-06T00:00:00+00:00", 24 * 4, step=2)
    ada = prompt(session_factory, "U0ADA", "2026-03-09")
    assert local(ada).strftime("%a %H:%M") == "Mon 09:00"
    assert ada.payload["reason"] == "outside working hours"
    bob = prompt(session_factory, "U0BOB", "2026-03-06")  # Friday evening: Monday morning
    assert local(bob).strftime("%a %d %H:%M") == "Mon 09 09:00"
    assert bob.payload["moved_from"] == "2026-03-06"
    eve = prompt(session_factory, "U0EVE", "2026-03-09")
    assert local(eve).strftime("%a %H:%M") == "Mon 11:00"
    assert {r.state for r in (ada, bob, eve)} == {"sent"}


def test_a_prompt_with_no_working_day_in_reach_is_recorded(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as s:
        s.scalars(select(Workspace)).one().holiday_dates = [
            (date(2026, 3, 1) + timedelta(days=n)).isoformat() for n in range(40)]
    ticks(clock, "2026-03-02T00:00:00+00:00", 24, step=3)
    row = prompt(session_factory, "U0ADA", "2026-03-02")
    assert (row.state, row.error) == ("skipped", "no working day within 31 days")
    assert posts(fake_slack, "U0ADA") == []


def test_two_prompts_on_one_day_go_out_once(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    set_person(session_factory, "U0ADA", checkin_schedule={"day": ["mon", "tue"]})
    ticks(clock, "2026-04-06T00:00:00+00:00", 36, step=3)
    moved = prompt(session_factory, "U0ADA", "2026-04-06")
    own = prompt(session_factory, "U0ADA", "2026-04-07")
    assert (moved.state, moved.error) == ("skipped", "another prompt goes out on Tue 7 Apr")
    assert own.state == "sent" and moved.due_at == own.due_at
    assert len([p for p in posts(fake_slack, "U0ADA") if "check-in" in str(p["text"])]) == 1


def test_sunday_cycle_start_has_no_weekend_reminders(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as s:
        ws = s.scalars(select(Workspace)).one()
        ws.timeline_preset = "gitlab-product"
        s.add(Cycle(workspace_id=ws.id, name="FY27-Q2", start_date=date(2026, 5, 3),
                    end_date=date(2026, 7, 31), phase="planning"))  # starts on a Sunday
    # 3 weeks before (Sun 12 Apr) to team leads, 2 weeks before (Sun 19 Apr) to the channel.
    ticks(clock, "2026-04-10T00:00:00+00:00", 24 * 4, step=3)
    ticks(clock, "2026-04-16T00:00:00+00:00", 24 * 4, step=3)
    reminders = [r for r in rows(session_factory, kind="reminder")
                 if r.occurrence.startswith("FY27-Q2:")]
    assert reminders and {r.state for r in reminders} == {"sent"}
    for r in reminders:
        assert local(r).weekday() < 5, f"{r.occurrence} to {r.target} on {local(r):%a}"
    (channel,) = [r for r in reminders if r.occurrence == "FY27-Q2:gitlab-2w"]
    assert local(channel).strftime("%a %d %b %H:%M") == "Fri 17 Apr 10:00"  # back, not late
    assert channel.payload["moved_from"] == "2026-04-19" and channel.payload["reason"] == "Sunday"
    assert len([p for p in posts(fake_slack, "C0ALL") if "2 weeks to go" in str(p["text"])]) == 1
    leads = {r.target: local(r) for r in reminders if r.occurrence == "FY27-Q2:gitlab-3w"}
    assert set(leads) == {"U0ADA", "U0BOB"}
    for at in leads.values():  # each lead on their own next working day, at 10:00
        assert at.strftime("%a %d %b %H:%M") == "Mon 13 Apr 10:00"
