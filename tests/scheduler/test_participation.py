"""Participation in digests: "N of M checked in · waiting on ..." computed when the digest is
sent, with names or without (teams.digest_names), against the fake Slack on both databases;
and the pure line and the lead's "waiting on" DM within Block Kit's limits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.domain import Participation, WaitingKR
from app.models import Team, Workspace
from blocks.escalation import MAX_LINES, participation_line, waiting_message
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, make_settings, posts, seed
from tests.scheduler.test_followups import checkin
from tests.scheduler.test_ladder import LADDER
from tests.slack.blockkit import validate_message

# Friday 6 March 2026, 16:00 in Berlin: every team's default digest.
DIGEST = "2026-03-06T15:00:30+00:00"


def _clock(factory: sessionmaker[Session], fake: FakeSlack) -> Clock:
    seed(factory, LADDER)
    with unit_of_work(factory) as s:  # no prompts: only digests in these tests
        s.scalars(select(Workspace)).one().checkin_schedule = {
            "cadence": "monthly", "day_of_month": 20, "time": "10:00"}
    return Clock(factory, make_settings(fake))


def _first(fake: FakeSlack, channel: str) -> str:
    return " ".join(str(b) for b in posts(fake, channel)[0]["blocks"])


def test_the_digest_says_who_checked_in_since_the_last_one(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> None:
    clock = _clock(session_factory, fake_slack)
    checkin(session_factory, "kr-a", "2026-03-04T10:00:00+00:00", value=25)
    clock.tick(DIGEST)
    product = _first(fake_slack, "C0PRD")
    assert "1 of 2 checked in since Sun 1 Feb 2026 · waiting on <@U0BO>" in product
    assert "0 of 1 checked in since Sun 1 Feb 2026 · waiting on <@U0KAI>" in _first(
        fake_slack, "C0OPS")
    # The next digest counts from this one: Ana's earlier check-in no longer counts.
    checkin(session_factory, "kr-b", "2026-03-10T10:00:00+00:00", value=6)
    clock.tick("2026-03-13T15:00:30+00:00")
    second = " ".join(str(b) for b in posts(fake_slack, "C0PRD")[1]["blocks"])
    assert "1 of 2 checked in since Fri 6 Mar 2026 · waiting on <@U0ANA>" in second


def test_a_team_can_leave_names_out(session_factory: sessionmaker[Session],
                                    fake_slack: FakeSlack) -> None:
    clock = _clock(session_factory, fake_slack)
    with unit_of_work(session_factory) as s:
        s.scalars(select(Team).where(Team.key == "product")).one().digest_names = False
    clock.tick(DIGEST)
    product = _first(fake_slack, "C0PRD")
    assert "0 of 2 checked in since Sun 1 Feb 2026" in product
    assert "waiting on" not in product and "U0ANA" not in product
    assert "waiting on <@U0KAI>" in _first(fake_slack, "C0OPS")


def test_the_line_names_at_most_twenty() -> None:
    many = tuple(f"U{i:04d}" for i in range(25))
    line = participation_line(Participation(owners=30, checked_in=5, waiting=many,
                                            since=date(2026, 3, 6)))
    assert line.startswith(":busts_in_silhouette: 5 of 30 checked in since Fri 6 Mar 2026")
    assert line.count("<@") == 20 and line.endswith(" and 5 more")
    assert "waiting" not in participation_line(Participation(4, 1, (), named=False))


def test_a_long_waiting_list_stays_within_block_kit() -> None:
    items = [WaitingKR(team=f"Team {i % 3}", owner_slack_id=f"U{i:04d}", owner_name=f"P{i}",
                       title="A <title> & " + "x" * 140, key=f"kr-{i}", since=date(2026, 3, 6))
             for i in range(80)]
    message: dict[str, Any] = waiting_message(items, after_days=7)
    assert validate_message(message, where="escalation") == []
    assert message["text"] == ("Waiting on 80 people: 80 key results not updated for 7 working "
                               "days since the check-in prompt.")
    body = str(message["blocks"])
    assert body.count("<@U") == MAX_LINES and "and 50 more key results" in body
    assert "&lt;title&gt; &amp;" in body
