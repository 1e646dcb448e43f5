"""Working days, hours, holiday calendar, days away and nudges in My settings, and the
organisation's working week in its Settings: checked on the server, inline errors, audited,
and read by ``/okr next`` and the scheduler."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import Person, Workspace
from blocks.ids import Action, Block
from tests.fixtures.slack import Harness, rollback_factory, slack
from tests.slack.blockkit import validate_view
from tests.slack.test_settings import _audits, _open, _org_values, _schedule
from tests.slackreq import json_body

__all__ = ["rollback_factory", "slack"]


def one(block: Block, element: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(block): {str(block): element}}


def checks(values: list[str]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def picked(day: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": day}


def my_values(*, days: list[str], hours: str | None, calendar: str | None,
              away: tuple[str | None, str | None] = (None, None),
              nudges: bool = True) -> dict[str, dict[str, Any]]:
    return {**_schedule(Block.SET_CHECKIN, None, [], None),
            **one(Block.SET_WORK_DAYS, checks(days)), **one(Block.SET_WORK_HOURS, text(hours)),
            **one(Block.SET_HOLIDAY_CALENDAR, text(calendar)),
            **one(Block.SET_AWAY_FROM, picked(away[0])), **one(Block.SET_AWAY, picked(away[1])),
            **one(Block.SET_NUDGES, checks(["on"] if nudges else []))}


def bob(slack: Harness) -> Person:
    with slack.session() as s:
        return s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()


def test_my_working_week_holidays_away_and_nudges(slack: Harness) -> None:
    view = _open(slack, "U0BOB", Action.OPEN_MY_SETTINGS)
    assert view is not None
    validate_view(view)
    # Bad hours, an unknown calendar and a first day away after the last: all inline.
    body = json_body(slack.send(slack.req.view_submission("U0BOB", view, my_values(
        days=["sun", "mon"], hours="19:00-08:00", calendar="XX-1",
        away=("2026-03-20", "2026-03-10")))))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {str(Block.SET_WORK_HOURS), str(Block.SET_HOLIDAY_CALENDAR),
                                   str(Block.SET_AWAY_FROM)}
    assert "after its start" in body["errors"][str(Block.SET_WORK_HOURS)]
    assert "unknown holiday calendar" in body["errors"][str(Block.SET_HOLIDAY_CALENDAR)]
    assert _audits(slack, "settings.person") == []
    assert bob(slack).work_days is None

    slack.send(slack.req.view_submission("U0BOB", view, my_values(
        days=["sun", "mon", "tue", "wed", "thu"], hours="09:00-17:00", calendar="il",
        away=("2026-03-09", "2026-03-13"), nudges=False)))
    stored = bob(slack)
    assert (stored.work_days, stored.work_hours, stored.holiday_calendar, stored.nudges) == (
        ["mon", "tue", "wed", "thu", "sun"], "09:00-17:00", "IL", False)
    assert (str(stored.away_from), str(stored.away_until)) == ("2026-03-09", "2026-03-13")
    (entry,) = _audits(slack, "settings.person")
    assert entry.before == {"work_days": None, "work_hours": None, "holiday_calendar": None,
                            "away_from": None, "nudges": True}
    assert entry.after["away_from"] == "2026-03-09" and entry.after["nudges"] is False
    # The form opens with what is stored; /okr next shows the week and the away days.
    again = _open(slack, "U0BOB", Action.OPEN_MY_SETTINGS)
    assert again is not None and "09:00-17:00" in str(again) and "IL" in str(again)
    shown = json_body(slack.send(slack.req.command("U0BOB", "next")))
    text_shown = str(shown["blocks"])
    assert "Working days Sun, Mon, Tue, Wed, Thu, 09:00-17:00, holidays IL" in text_shown
    assert "Mon 9 Mar, 10:00 · _no prompt: away_" in text_shown
    assert "Mon 2 Mar" not in text_shown  # already past

    # Emptying the fields goes back to the team's and organisation's week.
    slack.send(slack.req.view_submission("U0BOB", view, my_values(
        days=[], hours="", calendar="", nudges=True)))
    stored = bob(slack)
    assert (stored.work_days, stored.work_hours, stored.holiday_calendar, stored.away_from,
            stored.away_until, stored.nudges) == (None, None, None, None, None, True)


def test_the_organisation_sets_its_working_week(slack: Harness) -> None:
    view = _open(slack, "U0DEE", Action.OPEN_ORG_SETTINGS)
    assert view is not None
    validate_view(view)
    values = {**_org_values(), **one(Block.SET_WORK_DAYS, checks(["mon", "tue", "wed", "thu"])),
              **one(Block.SET_WORK_HOURS, text("7:00"))}
    body = json_body(slack.send(slack.req.view_submission("U0DEE", view, values)))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {str(Block.SET_WORK_HOURS)}
    values |= one(Block.SET_WORK_HOURS, text("07:30-16:00"))
    body = json_body(slack.send(slack.req.view_submission("U0DEE", view, values)))
    assert "response_action" not in body
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None
        assert (ws.work_days, ws.work_hours) == (["mon", "tue", "wed", "thu"], "07:30-16:00")
    (entry,) = _audits(slack, "settings.org")
    assert entry.after["work_hours"] == "07:30-16:00"
    shown = json_body(slack.send(slack.req.command("U0BOB", "next")))
    assert "Working days Mon, Tue, Wed, Thu, 07:30-16:00" in str(shown["blocks"])
