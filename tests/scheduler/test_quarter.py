"""A whole quarter through ``okr tick --at`` against the fake Slack (PostgreSQL): every
expected prompt, nudge, lead's "waiting on" DM, digest and reminder is sent exactly once, and
nothing else is."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from app.bootstrap import Container
from app.cli import main
from app.commands.context import Obj
from app.db import make_session_factory, unit_of_work
from app.models import Delivery, Person
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import make_settings, seed

PEOPLE = ["U0ADA", "U0BOB", "U0CAT", "U0DEV", "U0EVE"]  # Fay owns no KR: never prompted
START, END = date(2026, 2, 1), date(2026, 4, 30)
EASTER_MONDAY = date(2026, 4, 6)  # a public holiday in Germany (the org's country): moved
ADA_AWAY = date(2026, 3, 16)
MINE = ("prompt", "nudge", "escalation", "digest", "reminder")
# The leads' "waiting on" DMs, by the Monday of the week they come in (nobody checks in).
# Bob (New York) leads eng: Cat, Dev and Eve, 7 working days after each Monday prompt, so on
# the Wednesday of the next week (Good Friday and Easter Monday, German holidays of the
# org, push the 30 March one to Friday 10 April, and Easter Monday's prompt, moved to Tuesday
# 7 April, to Thursday 16 April). Ada (Berlin) leads the company above Bob: she hears of
# Bob's KR the morning after his 10:00 in New York (the 10 April one on Monday 13 April, with
# the 16 April one in the same week); away in the week of 16 March, that one is skipped.
BOB_WEEKS = ["02-09", "02-16", "02-23", "03-02", "03-09", "03-16", "03-23", "03-30", "04-06",
             "04-13", "04-20", "04-27"]
ADA_WEEKS = ["02-09", "02-16", "02-23", "03-02", "03-09", "03-23", "03-30", "04-13", "04-20",
             "04-27"]


def days(first: date, last: date, weekday: int) -> list[date]:
    out, d = [], first
    while d <= last:
        if d.weekday() == weekday:
            out.append(d)
        d += timedelta(days=1)
    return out


def expected() -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(kind, target, occurrence) sent, and those skipped, worked out from the calendar."""
    sent: set[tuple[str, str, str]] = set()
    skipped: set[tuple[str, str, str]] = set()
    for monday in days(START, END, 0):
        week = monday.isoformat()
        for who in PEOPLE:
            if who == "U0ADA" and monday == ADA_AWAY:
                skipped.add(("prompt", who, week))
                continue
            # Easter Monday's prompt moves to Tuesday and keeps its key (see below).
            sent.add(("prompt", who, week))
            sent.add(("nudge", who, f"{week}#nudge1"))  # nobody checks in: Tuesday
            sent.add(("nudge", who, f"{week}#nudge2"))  # and Thursday
    for friday in days(START, END, 4):
        for channel in ("C0ALL", "C0ENG"):
            sent.add(("digest", channel, friday.isoformat()))
    sent.add(("reminder", "C0ALL", "FY27-Q1:cycle-tracking"))
    sent |= {("reminder", who, "FY27-Q1:cycle-midpoint") for who in ("U0ADA", "U0BOB")}
    sent |= {("reminder", who, "FY27-Q1:cycle-scoring") for who in PEOPLE}
    sent.add(("reminder", "C0ALL", "FY27-Q1:cycle-retrospective"))
    sent |= {("escalation", "U0BOB", f"2026-{w}#waiting") for w in BOB_WEEKS}
    sent |= {("escalation", "U0ADA", f"2026-{w}#waiting") for w in ADA_WEEKS}
    skipped.add(("escalation", "U0ADA", "2026-03-16#waiting"))
    return sent, skipped


@pytest.mark.slow
def test_a_simulated_quarter_sends_everything_exactly_once(
        fresh_engine: Engine, fake_slack: FakeSlack) -> None:
    factory = make_session_factory(fresh_engine)
    seed(factory)
    obj = Obj()
    obj._container = Container(settings=make_settings(fake_slack), engine=fresh_engine,
                               session_factory=factory)
    runner = CliRunner()
    def tick(at: datetime) -> None:
        result = runner.invoke(main, ["tick", "--at", at.isoformat()], obj=obj,
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output

    at = datetime(2026, 1, 29, 0, 7, tzinfo=UTC)  # the first-day reminder moves to Fri 30 Jan
    while at < datetime(2026, 5, 5, tzinfo=UTC):
        if at == datetime(2026, 3, 13, 12, 7, tzinfo=UTC):  # Ada goes away for a week
            with unit_of_work(factory) as s:
                ada = s.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
                ada.away_until = ADA_AWAY + timedelta(days=4)
        tick(at)
        if at == datetime(2026, 3, 19, 0, 7, tzinfo=UTC):
            for hours in range(-72, 0, 3):  # replaying three days changes nothing
                tick(at + timedelta(hours=hours))
        at += timedelta(hours=3)

    with unit_of_work(factory) as s:
        # End-of-cycle scoring DMs and retrospectives (review_jobs) are tested by their owner.
        rows = s.scalars(select(Delivery).where(Delivery.kind.in_(MINE))).all()
        by_state = Counter(r.state for r in rows)
        sent = {(r.kind, r.target, r.occurrence) for r in rows if r.state == "sent"}
        skipped = {(r.kind, r.target, r.occurrence) for r in rows if r.state == "skipped"}
        sent_ids = {r.id for r in s.scalars(select(Delivery).where(Delivery.state == "sent"))}
    want_sent, want_skipped = expected()
    assert sent == want_sent
    assert skipped == want_skipped
    assert by_state == Counter({"sent": len(want_sent), "skipped": len(want_skipped)})
    moved = [r for r in rows if r.kind == "prompt" and r.occurrence == EASTER_MONDAY.isoformat()]
    assert len(moved) == len(PEOPLE)
    for row in moved:
        local = row.due_at.astimezone(ZoneInfo(str(row.tz)))
        assert (local.date(), local.strftime("%H:%M")) == (EASTER_MONDAY + timedelta(days=1),
                                                           "10:00")
        assert (row.payload or {})["reason"] == "Easter Monday"

    # Slack saw each delivery (each part of it) exactly once, and nothing else.
    posted = Counter(
        (c.params["metadata"]["event_payload"]["delivery"],
         c.params["metadata"]["event_payload"]["part"])
        for c in fake_slack.calls_to("chat.postMessage") if c.response.get("ok"))
    assert max(posted.values()) == 1
    assert {d for d, _ in posted} == sent_ids
