"""The ladder and participation where people see them, through the real Bolt app and the
fake Slack: ``/okr next`` lists the nudges and the lead's step still to come after the last
prompt; a lead's App Home shows each team's participation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Delivery, KeyResult, Person
from tests.fixtures.slack import Harness
from tests.slack.test_events import home_opened


def _prompted(slack: Harness, slack_id: str) -> None:
    """Today's prompt went out (Monday 2 March, 10:00 in Berlin: the harness's now)."""
    org = slack.org
    assert org.cycle is not None
    with slack.session() as s:
        person = org.people[slack_id]
        s.add(Delivery(workspace_id=org.workspace.id, kind="prompt", target=slack_id,
                       occurrence="2026-03-02", due_at=slack.now, state="sent", attempts=1,
                       created_at=slack.now, sent_at=slack.now, person_id=person.id,
                       cycle_id=org.cycle.id, tz=person.tz, ts="1.0", channel="D0X"))
        s.commit()


def _next(slack: Harness, user: str) -> str:
    _, body = slack.command(user, "next")
    return " ".join(str(b) for b in body["blocks"])


def test_next_shows_the_ladder_of_the_last_prompt(slack: Harness) -> None:
    assert "Nudge" not in _next(slack, "U0BOB")  # no prompt yet: nothing follows
    _prompted(slack, "U0BOB")
    shown = _next(slack, "U0BOB")
    assert "After your last prompt (5 key results not updated yet)" in shown
    assert "Nudge 1 of 2 · Tue 3 Mar, 10:00 · _if not updated_" in shown
    assert "Nudge 2 of 2 · Thu 5 Mar, 10:00" in shown
    assert "Your lead hears · Wed 11 Mar, 10:00" in shown  # seven working days after


def test_next_says_nudges_are_off_and_that_the_lead_still_hears(slack: Harness) -> None:
    with slack.session() as s:
        s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one().nudges = False
        s.commit()
    _prompted(slack, "U0BOB")
    shown = _next(slack, "U0BOB")
    assert "Nudge 1" not in shown and "Nudges are off" in shown
    assert "Your lead hears · Wed 11 Mar, 10:00" in shown


def test_next_drops_the_ladder_once_every_kr_is_updated(slack: Harness) -> None:
    _prompted(slack, "U0BOB")
    assert "Nudge 1 of 2" in _next(slack, "U0BOB")
    with slack.session() as s:
        for kr in s.scalars(select(KeyResult).where(
                KeyResult.owner_id == slack.org.people["U0BOB"].id)):
            kr.last_checkin_at = slack.now + timedelta(minutes=5)
        s.commit()
    shown = _next(slack, "U0BOB")
    assert "Nudge" not in shown and "lead hears" not in shown


def test_a_leads_home_shows_who_checked_in(slack: Harness) -> None:
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-cy")).one()
        kr.last_checkin_at = datetime(2026, 2, 20, 10, 0, tzinfo=slack.now.tzinfo)
        s.commit()
    home_opened(slack, "U0ADA", "EvLead")
    home = slack.fake.home("U0ADA")
    assert home is not None
    blocks = str(home["blocks"])
    assert "1 of 2 checked in since Sat 31 Jan 2026 · waiting on <@U0BOB>" in blocks
    home_opened(slack, "U0BOB", "EvMember")  # not a lead: no participation line
    member = slack.fake.home("U0BOB")
    assert member is not None and "checked in since" not in str(member["blocks"])
