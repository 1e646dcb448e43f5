"""Edit and Undo on the checked-in summary, through the real Bolt app and the fake Slack."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.domain import CheckinAnswer, CheckinSource
from app.models import KeyResult, Person
from app.services.checkins import record
from blocks.checkin import open_value
from blocks.ids import Action
from tests.fixtures.slack import Harness
from tests.slack.fields import slack_all_fields
from tests.slack.state import submitted_values

__all__ = ["slack_all_fields"]


@pytest.fixture()
def slack(slack_all_fields: Harness) -> Harness:
    """These tests correct a check-in that carries a confidence: the modal asks every field."""
    return slack_all_fields


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {el["action_id"]: el for b in blocks if b.get("type") == "actions"
            for el in b["elements"]}


def _kr(slack: Harness, key: str) -> KeyResult:
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == key)).one()
        s.expunge(kr)
        return kr


def _checked_in(slack: Harness) -> tuple[str, str, list[dict[str, Any]]]:
    """Bob checks in on kr-inc from a DM prompt; returns the summary the prompt became."""
    msg = slack.app.client.chat_postMessage(channel="U0BOB", text="Time to check in")
    channel, ts = msg["channel"], msg["ts"]
    slack.send(slack.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(kr_keys=["kr-inc"]),
                                channel=channel, message_ts=ts))
    view = slack.fake.last_view()
    assert view is not None
    values = submitted_values(view, {"ci_value:kr-inc": "30", "ci_status:kr-inc": "yellow",
                                     "ci_note:kr-inc": "Half way", "ci_conf:kr-inc": "high"})
    assert slack.send(slack.req.view_submission("U0BOB", view, values)).status == 200
    update = slack.fake.calls_to("chat.update")[-1].params
    return channel, ts, _blocks(update)


def _click(slack: Harness, user: str, button: dict[str, Any], channel: str, ts: str,
           blocks: list[dict[str, Any]]) -> Any:
    req = slack.req.button(user, button["action_id"], button["value"], channel=channel,
                           message_ts=ts, message={"type": "message", "ts": ts, "text": "",
                                                   "user": "U0BOT", "blocks": blocks})
    assert slack.send(req).status == 200
    return req


def test_edit_opens_the_modal_with_the_check_in_and_records_a_correction(
        slack: Harness) -> None:
    channel, ts, blocks = _checked_in(slack)
    first = slack.checkins("kr-inc")[0]
    buttons = _buttons(blocks)
    edit = buttons[f"{Action.EDIT_CHECKIN}:{first.id}"]
    assert f"{Action.UNDO_CHECKIN}:{first.id}" in buttons
    _click(slack, "U0BOB", edit, channel, ts, blocks)
    view = slack.fake.last_view()
    assert view is not None and view["callback_id"] == "okr_correct_checkin"
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["ci_value:kr-inc"]["initial_value"] == "30"
    assert inputs["ci_status:kr-inc"]["initial_option"]["value"] == "yellow"
    assert inputs["ci_conf:kr-inc"]["initial_option"]["value"] == "high"
    assert inputs["ci_note:kr-inc"]["initial_value"] == "Half way"
    assert "ci_same:kr-inc" not in inputs

    values = submitted_values(view, {"ci_value:kr-inc": "35", "ci_status:kr-inc": "green"})
    assert slack.send(slack.req.view_submission("U0BOB", view, values)).status == 200
    rows = slack.checkins("kr-inc")
    assert [(r.value, r.status, r.supersedes_id) for r in rows] == [
        (30.0, "yellow", None), (35.0, "green", first.id)]
    kr = _kr(slack, "kr-inc")
    assert (kr.current_value, kr.declared_status) == (35.0, "green")
    redrawn = slack.fake.calls_to("chat.update")[-1].params
    assert redrawn["ts"] == ts
    assert f"{Action.EDIT_CHECKIN}:{rows[1].id}" in _buttons(_blocks(redrawn))


def test_undo_restores_and_a_second_undo_does_nothing(slack: Harness) -> None:
    channel, ts, blocks = _checked_in(slack)
    first = slack.checkins("kr-inc")[0]
    undo = _buttons(blocks)[f"{Action.UNDO_CHECKIN}:{first.id}"]
    req = _click(slack, "U0BOB", undo, channel, ts, blocks)
    assert "Undone: *Grow activation* is back to no check-in" in \
        slack.fake.responses(req.response_key)[-1]["text"]
    kr = _kr(slack, "kr-inc")
    assert (kr.current_value, kr.declared_status, kr.last_checkin_at) == (None, None, None)
    assert [r.undone for r in slack.checkins("kr-inc")] == [False, True]
    redrawn = _blocks(slack.fake.calls_to("chat.update")[-1].params)
    assert "undone" in json.dumps(redrawn) and not _buttons(redrawn)

    again = _click(slack, "U0BOB", undo, channel, ts, blocks)  # the old message, tapped again
    assert slack.fake.responses(again.response_key)[-1]["text"] == \
        "That check-in was already undone."
    assert len(slack.checkins("kr-inc")) == 2


def test_only_the_author_or_an_admin_may_correct(slack: Harness) -> None:
    channel, ts, blocks = _checked_in(slack)
    first = slack.checkins("kr-inc")[0]
    buttons = _buttons(blocks)
    opened = len(slack.fake.calls_to("views.open"))
    req = _click(slack, "U0CY", buttons[f"{Action.EDIT_CHECKIN}:{first.id}"], channel, ts,
                 blocks)
    assert "only the person who checked in" in slack.fake.responses(req.response_key)[-1]["text"]
    assert len(slack.fake.calls_to("views.open")) == opened
    req = _click(slack, "U0CY", buttons[f"{Action.UNDO_CHECKIN}:{first.id}"], channel, ts,
                 blocks)
    assert "only the person who checked in" in slack.fake.responses(req.response_key)[-1]["text"]
    assert len(slack.checkins("kr-inc")) == 1
    _click(slack, "U0DEE", buttons[f"{Action.UNDO_CHECKIN}:{first.id}"], channel, ts, blocks)
    assert len(slack.checkins("kr-inc")) == 2  # an admin may


def test_undo_after_24_hours_is_refused_and_home_lists_recent_check_ins(
        slack: Harness) -> None:
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-cy")).one()
        cy = s.scalars(select(Person).where(Person.slack_id == "U0CY")).one()
        old = record.record(session=s, workspace_id=kr.workspace_id, kr=kr,
                            data=CheckinAnswer(kr_key="kr-cy", value=1.0), author_id=cy.id,
                            actor_label="test", source=CheckinSource.SLACK,
                            now=slack.now - timedelta(hours=25))
        s.commit()
        old_id = old.id
    req = slack.req.button("U0CY", f"{Action.UNDO_CHECKIN}:{old_id}", str(old_id))
    slack.send(req)
    assert "only possible within 24 hours" in slack.fake.responses(req.response_key)[-1]["text"]
    assert len(slack.checkins("kr-cy")) == 1

    slack.send(slack.req.event({"type": "app_home_opened", "user": "U0CY", "tab": "home"}))
    home = slack.fake.home("U0CY")
    assert home is not None
    buttons = _buttons(home["blocks"])
    assert f"{Action.EDIT_CHECKIN}:{old_id}" in buttons
    assert f"{Action.UNDO_CHECKIN}:{old_id}" not in buttons  # past its window
