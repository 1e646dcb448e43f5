"""Settings in App Home, through the real Bolt app and the fake Slack: the organisation's
(admins), a team's (leads) and one's own; inline errors; refusals decided at submit; audited;
read by the scheduler's next tick and by ``/okr next``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Delivery, Person, Team, Workspace
from app.services.data.imports import load
from blocks.ids import Action, Block
from blocks.settings import org_modal
from tests.fixtures.scheduler import Clock, make_settings
from tests.fixtures.slack import Harness, rollback_factory, slack
from tests.slack.blockkit import validate_view
from tests.slackreq import json_body

__all__ = ["rollback_factory", "slack"]


def _select(value: str | None) -> dict[str, Any]:
    return {"type": "static_select",
            "selected_option": {"value": value} if value is not None else None}


def _text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _schedule(prefix: Block, cadence: str | None, days: list[str], at: str | None
              ) -> dict[str, dict[str, Any]]:
    return {
        f"{prefix}_cadence": {f"{prefix}_cadence": _select(cadence)},
        f"{prefix}_day": {f"{prefix}_day": {"type": "multi_static_select", "selected_options":
                                            [{"value": d} for d in days]}},
        f"{prefix}_time": {f"{prefix}_time": {"type": "timepicker", "selected_time": at}},
    }


def _org_values(*, tz: str = "America/New_York", digest_time: str = "15:30",
                holidays: str | None = "DE", admins: tuple[str, ...] = ("U0DEE",)
                ) -> dict[str, dict[str, Any]]:
    def one(block: Block, element: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {str(block): {str(block): element}}

    return {
        **one(Block.SET_NAME, _text("Test Co")), **one(Block.SET_TZ, _text(tz)),
        **one(Block.SET_FY_START, _select("4")), **one(Block.SET_TIMELINE, _select("none")),
        **one(Block.SET_HOLIDAYS, _text(holidays)),
        **_schedule(Block.SET_CHECKIN, None, [], None),
        **_schedule(Block.SET_DIGEST, "weekly", ["thu"], digest_time),
        **one(Block.SET_ADMINS, {"type": "multi_users_select", "selected_users": list(admins)}),
    }


def _home(slack: Harness, user: str) -> dict[str, Any]:
    slack.send(slack.req.event({"type": "app_home_opened", "user": user, "tab": "home"}))
    calls = [c for c in slack.fake.calls_to("views.publish") if c.params["user_id"] == user]
    view = calls[-1].params["view"]
    return view if isinstance(view, dict) else {}


def _buttons(view: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b.get("block_id") == "home_settings"
            for e in b["elements"]]


def _open(slack: Harness, user: str, action: str, value: str = "") -> dict[str, Any] | None:
    before = len(slack.fake.calls_to("views.open"))
    slack.send(slack.req.button(user, action, value))
    calls = slack.fake.calls_to("views.open")
    return calls[-1].response["view"] if len(calls) > before else None


def _audits(slack: Harness, action: str) -> list[AuditEntry]:
    with slack.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_home_shows_each_person_the_settings_they_may_open(slack: Harness) -> None:
    assert _buttons(_home(slack, "U0DEE")) == [
        str(Action.OPEN_MY_SETTINGS), str(Action.OPEN_ORG_SETTINGS),
        f"{Action.OPEN_TEAM_SETTINGS}:company", f"{Action.OPEN_TEAM_SETTINGS}:eng"]
    assert _buttons(_home(slack, "U0ADA")) == [str(Action.OPEN_MY_SETTINGS),
                                               f"{Action.OPEN_TEAM_SETTINGS}:eng"]
    assert _buttons(_home(slack, "U0BOB")) == [str(Action.OPEN_MY_SETTINGS)]
    slack.fake.assert_no_violations()


def test_an_admin_changes_the_zone_and_digest_schedule(slack: Harness) -> None:
    view = _open(slack, "U0DEE", Action.OPEN_ORG_SETTINGS)
    assert view is not None and view["title"]["text"] == "Settings"
    validate_view(view)
    assert "Europe/Berlin" in str(view)
    # An unknown zone, a bad time and an unknown holiday country: inline, nothing changes.
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _org_values(tz="Mars/Olympus", digest_time="25:00", holidays="XX"))))
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert "unknown time zone" in errors[str(Block.SET_TZ)]
    assert "HH:MM" in errors[f"{Block.SET_DIGEST}_time"]
    assert "unknown country code" in errors[str(Block.SET_HOLIDAYS)]
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None and ws.timezone == "Europe/Berlin" and ws.digest_schedule is None
    assert _audits(slack, "settings.org") == []

    body = json_body(slack.send(slack.req.view_submission("U0DEE", view, _org_values())))
    assert body == {} or "response_action" not in body
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None and ws.timezone == "America/New_York"
        assert ws.digest_schedule == {"cadence": "weekly", "day": ["thu"], "time": "15:30"}
        assert ws.fiscal_year_start_month == 4 and ws.holiday_country == "DE"
        assert ws.name == "Test Co" and ws.checkin_schedule is None
    (entry,) = _audits(slack, "settings.org")
    assert entry.actor_label == "slack:U0DEE"
    assert entry.before is not None and entry.before["timezone"] == "Europe/Berlin"
    assert entry.after is not None and entry.after["timezone"] == "America/New_York"
    # The form opens again with what was stored.
    again = _open(slack, "U0DEE", Action.OPEN_ORG_SETTINGS)
    assert again is not None and "America/New_York" in str(again) and "15:30" in str(again)


def test_a_forged_org_submission_by_a_member_changes_nothing(slack: Harness) -> None:
    assert _open(slack, "U0BOB", Action.OPEN_ORG_SETTINGS) is None
    told = [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == "U0BOB"]
    assert told and "admins" in told[-1].params["text"]
    # The modal as an admin would see it, submitted by Bob (made admin by his own list).
    view = org_modal({"name": "Test", "timezone": "Europe/Berlin"})
    body = json_body(slack.send(slack.req.view_submission(
        "U0BOB", view, _org_values(admins=("U0DEE", "U0BOB")))))
    assert body["response_action"] == "errors"
    assert "only OKR admins" in next(iter(body["errors"].values()))
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None and ws.timezone == "Europe/Berlin"
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        assert bob.is_admin is False
    assert _audits(slack, "settings.org") == []


def test_admins_are_managed_in_the_form(slack: Harness) -> None:
    view = _open(slack, "U0DEE", Action.OPEN_ORG_SETTINGS)
    assert view is not None
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _org_values(admins=("U0BOB",)))))
    assert "cannot remove yourself" in body["errors"][str(Block.SET_ADMINS)]
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _org_values(admins=("U0DEE", "U0NOBODY")))))
    assert "not in the OKRs" in body["errors"][str(Block.SET_ADMINS)]
    slack.send(slack.req.view_submission("U0DEE", view, _org_values(admins=("U0DEE", "U0ADA"))))
    # Ada's Home is refreshed at once with her new Settings button.
    (published,) = [c for c in slack.fake.calls_to("views.publish")
                    if c.params["user_id"] == "U0ADA"]
    assert str(Action.OPEN_ORG_SETTINGS) in _buttons(published.params["view"])
    assert _open(slack, "U0ADA", Action.OPEN_ORG_SETTINGS) is not None
    (entry,) = _audits(slack, "settings.org")
    assert entry.after is not None and entry.after["admins_added"] == ["U0ADA"]


def _team_values(channel: str | None, digest: tuple[list[str], str | None]
                 ) -> dict[str, dict[str, Any]]:
    return {str(Block.SET_CHANNEL): {str(Block.SET_CHANNEL): {
                "type": "conversations_select", "selected_conversation": channel}},
            **_schedule(Block.SET_CHECKIN, None, [], None),
            **_schedule(Block.SET_DIGEST, "biweekly", *digest)}


def test_a_lead_edits_team_settings_and_a_member_cannot(slack: Harness) -> None:
    view = _open(slack, "U0ADA", f"{Action.OPEN_TEAM_SETTINGS}:eng", "eng")
    assert view is not None and view["private_metadata"] == "eng"
    validate_view(view)
    body = json_body(slack.send(slack.req.view_submission(
        "U0ADA", view, _team_values("C0NEW", ([], "09:00")))))
    assert "response_action" not in body
    with slack.session() as s:
        eng = s.scalars(select(Team).where(Team.key == "eng")).one()
        assert eng.channel_id == "C0NEW"
        assert eng.digest_schedule == {"cadence": "biweekly", "time": "09:00"}
    (entry,) = _audits(slack, "settings.team")
    assert entry.subject_key == "eng" and entry.before == {
        "channel_id": "C0ENG", "digest_schedule": None}

    # Bob is a member, not the lead: the button is refused and so is a forged submission.
    assert _open(slack, "U0BOB", f"{Action.OPEN_TEAM_SETTINGS}:eng", "eng") is None
    body = json_body(slack.send(slack.req.view_submission(
        "U0BOB", view, _team_values("C0BOB", (["mon"], "08:00")))))
    assert body["response_action"] == "errors"
    assert "only the team's lead" in next(iter(body["errors"].values()))
    # Ada does not lead the company team above hers.
    company = dict(view, private_metadata="company")
    body = json_body(slack.send(slack.req.view_submission(
        "U0ADA", company, _team_values("C0ADA", ([], "08:00")))))
    assert body["response_action"] == "errors"
    with slack.session() as s:
        eng = s.scalars(select(Team).where(Team.key == "eng")).one()
        assert eng.channel_id == "C0NEW"
    assert len(_audits(slack, "settings.team")) == 1


def _my_values(days: list[str], at: str | None, away: str | None = None
               ) -> dict[str, dict[str, Any]]:
    return {**_schedule(Block.SET_CHECKIN, "weekly", days, at),
            str(Block.SET_AWAY): {str(Block.SET_AWAY): {"type": "datepicker",
                                                        "selected_date": away}}}


def test_someone_sets_their_own_check_in_and_the_next_tick_follows_it(slack: Harness) -> None:
    before = json_body(slack.send(slack.req.command("U0BOB", "next")))
    assert "the default" in before["text"] and "My settings" in before["text"]
    view = _open(slack, "U0BOB", Action.OPEN_MY_SETTINGS)
    assert view is not None
    validate_view(view)
    # A bad time and an away day in the past: inline errors, nothing stored.
    body = json_body(slack.send(slack.req.view_submission(
        "U0BOB", view, _my_values(["tue"], "7:3x", away="2026-01-01"))))
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {f"{Block.SET_CHECKIN}_time", str(Block.SET_AWAY)}
    assert _audits(slack, "settings.person") == []

    slack.send(slack.req.view_submission("U0BOB", view, _my_values(["tue"], "08:15")))
    (entry,) = _audits(slack, "settings.person")
    assert entry.after == {"checkin": {"cadence": "weekly", "day": ["tue"], "time": "08:15"}}
    shown = json_body(slack.send(slack.req.command("U0BOB", "next")))
    assert "your own" in shown["text"] and "every week on Tue at 08:15" in shown["text"]
    assert "Tue 3 Mar, 8:15" in str(shown["blocks"])

    # The seed's now is Monday 2 March 2026 09:00 UTC (10:00 in Berlin): Bob is no longer
    # prompted on Monday, and is on Tuesday at 08:15 Berlin time (07:15 UTC).
    clock = Clock(slack.session_factory, make_settings(slack.fake))
    clock.tick(slack.now + timedelta(minutes=1))
    clock.tick(slack.now + timedelta(hours=22, minutes=14))
    with slack.session() as s:
        assert s.scalars(select(Delivery).where(Delivery.kind == "prompt",
                                                Delivery.target == "U0BOB")).all() == []
    clock.tick(slack.now + timedelta(hours=22, minutes=16))
    with slack.session() as s:
        (row,) = s.scalars(select(Delivery).where(Delivery.kind == "prompt",
                                                  Delivery.target == "U0BOB")).all()
        assert row.occurrence == "2026-03-03"
    assert [c for c in slack.fake.calls_to("chat.postMessage")
            if c.params["channel"] == "U0BOB"]

    # Emptying the day and time goes back to the team's (here the default) schedule.
    slack.send(slack.req.view_submission("U0BOB", view, _my_values([], None)))
    with slack.session() as s:
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        assert bob.checkin_schedule is None


def test_the_modal_and_the_import_file_share_the_holiday_rule(slack: Harness) -> None:
    # A subdivision (DE-BY: Bavaria) is what the scheduler reads; both ways accept it.
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None
        load.import_text(session=s, workspace=ws, now=slack.now,
                         text="settings:\n  holidays: de-by\n")
        assert ws.holiday_country == "DE-BY"
        with pytest.raises(load.ImportInvalid) as info:
            load.import_text(session=s, workspace=ws, now=slack.now,
                             text="settings:\n  holidays: XX\n")
        s.commit()
    view = _open(slack, "U0DEE", Action.OPEN_ORG_SETTINGS)
    assert view is not None and "DE-BY" in str(view)
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _org_values(holidays="XX"))))
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        body["errors"][str(Block.SET_HOLIDAYS)]]
    slack.send(slack.req.view_submission("U0DEE", view, _org_values(holidays="at-9")))
    with slack.session() as s:
        ws = s.get(Workspace, slack.org.workspace.id)
        assert ws is not None and ws.holiday_country == "AT-9"


def test_a_team_digest_schedule_set_in_slack_is_used_by_the_next_tick(slack: Harness) -> None:
    clock = Clock(slack.session_factory, make_settings(slack.fake))

    def digests() -> list[Delivery]:
        with slack.session() as s:
            return list(s.scalars(select(Delivery).where(Delivery.kind == "digest")))

    # Monday 10:31 in Berlin: no digest on the default Friday schedule...
    clock.tick(slack.now + timedelta(minutes=31))
    assert digests() == []
    view = _open(slack, "U0ADA", f"{Action.OPEN_TEAM_SETTINGS}:eng", "eng")
    assert view is not None
    slack.send(slack.req.view_submission("U0ADA", view, {
        **_team_values("C0ENG", (["mon"], "10:30")),
        **_schedule(Block.SET_DIGEST, "weekly", ["mon"], "10:30")}))
    # ...and one on the next tick once the lead moved it to Mondays 10:30.
    clock.tick(slack.now + timedelta(minutes=32))
    (row,) = digests()
    assert row.target == "C0ENG" and row.occurrence == "2026-03-02"
