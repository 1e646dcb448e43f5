"""The follow-up ladder on a real database (SQLite and PostgreSQL) against the fake Slack:
nudges after 1 and 3 working days at their edges, quiet hours, the stop on a check-in, the
weekly cap, nudges turned off, and the lead's "waiting on" DM, batched across teams and sent
once a week."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Cycle, Delivery, Person, Workspace
from app.services.scheduling import skips
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, make_settings, posts, seed
from tests.scheduler.test_followups import checkin
from tests.scheduler.test_tick import rows

# Lea leads Product (Ana, Bo, Berlin) and Ops (Kai, New York) and owns no KR herself.
LADDER = """
settings: {timezone: Europe/Berlin, timeline: none, holidays: DE}
cycles:
  - {name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}
people:
  - {slack_id: U0LEA, name: Lea Lead, tz: Europe/Berlin}
  - {slack_id: U0ANA, name: Ana Alves, tz: Europe/Berlin}
  - {slack_id: U0BO, name: Bo Berg, tz: Europe/Berlin}
  - {slack_id: U0KAI, name: Kai Kim, tz: America/New_York}
teams:
  - {id: product, name: Product, lead: U0LEA, channel: C0PRD, members: [U0ANA, U0BO]}
  - {id: ops, name: Ops, lead: U0LEA, channel: C0OPS, members: [U0KAI]}
objectives:
  - id: activation
    cycle: FY27-Q1
    team: product
    owner: U0LEA
    title: Activate more users
    key_results:
      - {id: kr-a, title: Activation from 20 to 40, owner: U0ANA, start: 20, target: 40}
      - {id: kr-a2, title: Guided tour shipped, owner: U0ANA, type: milestone}
      - {id: kr-b, title: Trial conversion from 5 to 9, owner: U0BO, start: 5, target: 9}
  - id: uptime
    cycle: FY27-Q1
    team: ops
    owner: U0LEA
    title: Keep the lights on
    key_results:
      - {id: kr-k, title: Uptime to 99.9 percent, owner: U0KAI, type: percent}
"""
FRIDAY = {"cadence": "weekly", "day": "fri", "time": "10:00"}
# Friday 6 March 2026, 10:00: 09:00 UTC in Berlin, 15:00 UTC in New York.
BERLIN_PROMPT, NY_PROMPT = "2026-03-06T09:00:30+00:00", "2026-03-06T15:00:30+00:00"
# Seven working days after Friday 6 March is Tuesday 17 March; Lea hears at the start of her
# next working day, Wednesday 18 March 08:00 in Berlin.
LEAD_MORNING = "2026-03-18T07:00:30+00:00"


def _setup(factory: sessionmaker[Session], fake: FakeSlack,
           schedule: dict[str, Any] | None = None, **env: Any) -> Clock:
    seed(factory, LADDER)
    with unit_of_work(factory) as s:
        s.scalars(select(Workspace)).one().checkin_schedule = schedule or FRIDAY
    return Clock(factory, make_settings(fake, **env))


@pytest.fixture()
def clock(session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> Clock:
    return _setup(session_factory, fake_slack)


def run(clock: Clock, *instants: str) -> None:
    for at in instants:
        clock.tick(at)


def nudges(factory: sessionmaker[Session], target: str) -> list[tuple[str, str, int, str]]:
    return [(r.occurrence, r.state, int((r.payload or {})["step"]),
             r.due_at.astimezone(UTC).strftime("%a %d %H:%M"))
            for r in rows(factory, kind="nudge", target=target)]


def text_of(message: dict[str, Any]) -> str:
    return " ".join(str(b) for b in message["blocks"])


def test_a_friday_prompt_is_nudged_on_monday_and_wednesday(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    run(clock, BERLIN_PROMPT, NY_PROMPT, "2026-03-07T09:01:00+00:00",
        "2026-03-08T09:01:00+00:00", "2026-03-09T08:59:00+00:00")
    assert nudges(session_factory, "U0ANA") == []  # not on the weekend
    run(clock, "2026-03-09T09:00:30+00:00")
    assert nudges(session_factory, "U0ANA") == [("2026-03-09#nudge1", "sent", 1, "Mon 09 09:00")]
    assert nudges(session_factory, "U0KAI") == []  # 10:00 in New York is 14:00 UTC (EDT)
    run(clock, "2026-03-09T14:00:30+00:00", "2026-03-10T09:01:00+00:00",
        "2026-03-11T08:59:00+00:00")
    assert len(nudges(session_factory, "U0ANA")) == 1
    run(clock, "2026-03-11T09:00:30+00:00", "2026-03-11T14:00:30+00:00",
        "2026-03-11T14:01:00+00:00")
    assert nudges(session_factory, "U0ANA") == [("2026-03-09#nudge1", "sent", 1, "Mon 09 09:00"),
                                                ("2026-03-09#nudge2", "sent", 2, "Wed 11 09:00")]
    assert nudges(session_factory, "U0KAI") == [("2026-03-09#nudge1", "sent", 1, "Mon 09 14:00"),
                                                ("2026-03-09#nudge2", "sent", 2, "Wed 11 14:00")]
    ana = posts(fake_slack, "U0ANA")
    assert len(ana) == 3 and all("gentle reminder" in p["text"] for p in ana[1:])
    assert "Guided tour shipped" in text_of(ana[2])


def test_a_nudge_due_at_21_waits_for_8_on_the_next_working_day(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> None:
    # Prompted on Thursday 5 March at 21:00 in Berlin: a working day later is Friday 21:00,
    # after hours, so it waits for Monday 08:00 (07:00 UTC); the second, three working days
    # after, is Tuesday 21:00 and waits for Wednesday 08:00.
    clock = _setup(session_factory, fake_slack,
                   {"cadence": "monthly", "day_of_month": 20, "time": "10:00"})
    sent_prompt(session_factory, "U0ANA", "2026-03-05", datetime(2026, 3, 5, 20, 0, tzinfo=UTC))
    run(clock, "2026-03-06T20:01:00+00:00", "2026-03-07T07:01:00+00:00",
        "2026-03-09T06:59:00+00:00")
    assert nudges(session_factory, "U0ANA") == []
    run(clock, "2026-03-09T07:00:30+00:00", "2026-03-10T20:01:00+00:00",
        "2026-03-11T07:00:30+00:00")
    assert nudges(session_factory, "U0ANA") == [("2026-03-09#nudge1", "sent", 1, "Mon 09 07:00"),
                                                ("2026-03-09#nudge2", "sent", 2, "Wed 11 07:00")]
    assert len(posts(fake_slack, "U0ANA")) == 2


def test_a_checkin_stops_the_ladder(clock: Clock, fake_slack: FakeSlack,
                                    session_factory: sessionmaker[Session]) -> None:
    run(clock, BERLIN_PROMPT, NY_PROMPT)
    checkin(session_factory, "kr-a", "2026-03-07T10:00:00+00:00", value=25)
    run(clock, "2026-03-09T09:00:30+00:00")
    (first,) = posts(fake_slack, "U0ANA")[1:]
    assert "Guided tour shipped" in text_of(first) and "Activation from 20" not in text_of(first)
    checkin(session_factory, "kr-a2", "2026-03-10T10:00:00+00:00", value=0)
    run(clock, "2026-03-09T14:00:30+00:00", "2026-03-11T09:00:30+00:00",
        "2026-03-11T14:00:30+00:00")
    assert [(o, s) for o, s, _, _ in nudges(session_factory, "U0ANA")] == [
        ("2026-03-09#nudge1", "sent"), ("2026-03-09#nudge2", "skipped")]
    assert rows(session_factory, kind="nudge", target="U0ANA")[1].error \
        == skips.ALREADY_CHECKED_IN
    assert len(posts(fake_slack, "U0ANA")) == 2
    run(clock, *_weeks_ticks(), LEAD_MORNING)
    (dm,) = posts(fake_slack, "U0LEA")
    assert "<@U0BO>" in text_of(dm) and "<@U0KAI>" in text_of(dm)
    assert "U0ANA" not in text_of(dm)  # her KRs were updated since that prompt


def _weeks_ticks() -> list[str]:
    """The ticks of the week after the first prompts (prompts on Friday 13, nudges on Monday
    16 and the ladder's seventh working day on Tuesday 17 March)."""
    return ["2026-03-13T09:00:30+00:00", "2026-03-13T15:00:30+00:00",
            "2026-03-16T09:00:30+00:00", "2026-03-16T14:00:30+00:00",
            "2026-03-17T09:00:30+00:00", "2026-03-17T14:00:30+00:00",
            "2026-03-18T06:59:00+00:00"]


def test_the_lead_hears_once_a_week_of_everyone_waiting_in_all_her_teams(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    run(clock, BERLIN_PROMPT, NY_PROMPT, "2026-03-09T09:00:30+00:00",
        "2026-03-09T14:00:30+00:00", "2026-03-11T09:00:30+00:00", "2026-03-11T14:00:30+00:00")
    run(clock, *_weeks_ticks())
    assert rows(session_factory, kind="escalation") == []  # Tuesday evening is not her morning
    run(clock, LEAD_MORNING)
    other = Clock(session_factory, clock.settings)  # another process, and later ticks
    for c, at in ((clock, LEAD_MORNING), (other, LEAD_MORNING),
                  (other, "2026-03-19T07:00:30+00:00"), (clock, "2026-03-20T07:00:30+00:00")):
        c.tick(at)
    (row,) = rows(session_factory, kind="escalation")
    assert (row.target, row.occurrence, row.state) == ("U0LEA", "2026-03-16#waiting", "sent")
    assert row.due_at == datetime(2026, 3, 18, 7, 0, tzinfo=UTC)
    (dm,) = posts(fake_slack, "U0LEA")
    body = text_of(dm)
    assert dm["text"].startswith("Waiting on 3 people: 4 key results not updated for 7 working")
    assert body.index("*Product*") < body.index("<@U0ANA>") < body.index("*Ops*") \
        < body.index("<@U0KAI>")
    assert "Guided tour shipped" in body and "asked Fri 6 Mar 2026" in body
    # The next week's prompts (Friday 13) reach their seventh working day on Tuesday 24:
    # one more DM, in that week.
    run(clock, "2026-03-19T09:00:30+00:00", "2026-03-20T09:00:30+00:00",
        "2026-03-20T15:00:30+00:00", "2026-03-23T09:00:30+00:00", "2026-03-24T09:00:30+00:00",
        "2026-03-24T14:00:30+00:00", "2026-03-25T07:00:30+00:00")
    assert [r.occurrence for r in rows(session_factory, kind="escalation")] == [
        "2026-03-16#waiting", "2026-03-23#waiting"]


def test_nothing_waiting_any_more_skips_the_lead_dm(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    run(clock, BERLIN_PROMPT, NY_PROMPT, *_weeks_ticks())
    clock.tick(LEAD_MORNING, deliver=False)
    for key, value in (("kr-a", 30), ("kr-a2", 0), ("kr-b", 6), ("kr-k", 30)):
        checkin(session_factory, key, "2026-03-18T07:00:10+00:00", value=value)
    clock.tick(LEAD_MORNING)
    (row,) = rows(session_factory, kind="escalation")
    assert (row.state, row.error) == ("skipped", skips.NOTHING_WAITING)
    assert posts(fake_slack, "U0LEA") == []


def test_the_weekly_cap_holds(session_factory: sessionmaker[Session],
                              fake_slack: FakeSlack) -> None:
    clock = _setup(session_factory, fake_slack, {"cadence": "weekly", "day": "mon",
                                                 "time": "10:00"},
                   OKR_NUDGE_AFTER_DAYS="1,2,3,4", OKR_MAX_DMS_PER_WEEK=3)
    run(clock, *(f"2026-03-0{d}T09:00:30+00:00" for d in (2, 3, 4, 5, 6)))
    assert [(o, step) for o, _, step, _ in nudges(session_factory, "U0ANA")] == [
        ("2026-03-02#nudge1", 1), ("2026-03-02#nudge2", 2), ("2026-03-02#nudge3", 3)]
    assert len(posts(fake_slack, "U0ANA")) == 1 + 3


def test_nudges_off_stops_them_but_the_lead_still_hears(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    run(clock, BERLIN_PROMPT, NY_PROMPT)
    clock.tick("2026-03-09T09:00:30+00:00", deliver=False)  # Bo's and Ana's nudges enqueued
    with unit_of_work(session_factory) as s:
        s.scalars(select(Person).where(Person.slack_id == "U0ANA")).one().nudges = False
    run(clock, "2026-03-09T09:00:40+00:00", "2026-03-11T09:00:30+00:00")
    assert [(o, s) for o, s, _, _ in nudges(session_factory, "U0ANA")] == [
        ("2026-03-09#nudge1", "skipped")]  # decided at send time; the second is not enqueued
    assert rows(session_factory, kind="nudge", target="U0ANA")[0].error == skips.NUDGES_OFF
    assert len(nudges(session_factory, "U0BO")) == 2
    assert len(posts(fake_slack, "U0ANA")) == 1
    run(clock, *_weeks_ticks(), LEAD_MORNING)
    assert "<@U0ANA>" in text_of(posts(fake_slack, "U0LEA")[0])


def sent_prompt(factory: sessionmaker[Session], slack_id: str, base: str, at: datetime) -> None:
    """A prompt that went out at ``at`` (as the scheduler records it)."""
    with unit_of_work(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        person = s.scalars(select(Person).where(Person.slack_id == slack_id)).one()
        cycle = s.scalars(select(Cycle)).one()
        s.add(Delivery(workspace_id=ws.id, kind="prompt", target=slack_id, occurrence=base,
                       due_at=at, state="sent", attempts=1, created_at=at, sent_at=at,
                       person_id=person.id, cycle_id=cycle.id, tz=person.tz, ts="1.0",
                       channel="D0" + slack_id))


def test_nobody_is_chased_for_a_key_result_the_system_scores(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> None:
    """Kai's only KR follows linked issues: his prompt comes, his nudges do not, and Lea's
    list leaves him out."""
    seed(session_factory, LADDER.replace(
        "{id: kr-k, title: Uptime to 99.9 percent, owner: U0KAI, type: percent}",
        "{id: kr-k, title: Close the uptime bugs, owner: U0KAI, type: issues}"))
    with unit_of_work(session_factory) as s:
        s.scalars(select(Workspace)).one().checkin_schedule = FRIDAY
    clock = Clock(session_factory, make_settings(fake_slack))
    run(clock, BERLIN_PROMPT, NY_PROMPT, "2026-03-09T09:00:30+00:00",
        "2026-03-09T14:00:30+00:00", "2026-03-11T09:00:30+00:00", "2026-03-11T14:00:30+00:00")
    run(clock, *_weeks_ticks(), LEAD_MORNING)
    assert {r.state for r in rows(session_factory, kind="prompt", target="U0KAI")} == {"sent"}
    kai = rows(session_factory, kind="nudge", target="U0KAI")
    assert kai and {(r.state, r.error) for r in kai} == {("skipped", skips.AUTO_ONLY)}
    assert [r.state for r in rows(session_factory, kind="nudge", target="U0ANA")][:1] == ["sent"]
    (dm,) = posts(fake_slack, "U0LEA")
    assert dm["text"].startswith("Waiting on 2 people: 3 key results")
    assert "<@U0KAI>" not in text_of(dm) and "Close the uptime bugs" not in text_of(dm)
