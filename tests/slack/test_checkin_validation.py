"""Server-side validation of the check-in modal: inline errors, and nothing stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from app.models import KeyResult
from tests.fixtures.slack import Harness
from tests.slack import seed
from tests.slack.fields import slack_all_fields
from tests.slack.state import submitted_values
from tests.slackreq import json_body

__all__ = ["slack_all_fields"]

VALID = {"ci_value:kr-inc": "20", "ci_value:kr-dec": "12", "ci_value:kr-ms": [],
         "ci_value:kr-man": "0.5", "ci_value:kr-pct": "30"}


def open_modal(slack: Harness, user: str) -> dict[str, Any]:
    slack.send(slack.req.command(user, "checkin"))
    view = slack.fake.last_view()
    assert view is not None
    return view


def submit(slack: Harness, user: str, view: dict[str, Any], overrides: dict[str, Any],
           extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    values = submitted_values(view, overrides, extra=extra)
    resp = slack.send(slack.req.view_submission(user, view, values))
    assert resp.status == 200
    return json_body(resp)


@pytest.mark.parametrize(("overrides", "block", "words"), [
    ({"ci_value:kr-inc": None}, "ci_value:kr-inc", "enter the current value"),
    ({"ci_value:kr-inc": "lots"}, "ci_value:kr-inc", "enter a number"),
    ({"ci_value:kr-inc": "NaN"}, "ci_value:kr-inc", "enter a number"),
    ({"ci_value:kr-inc": "1e400"}, "ci_value:kr-inc", "enter a number"),
    ({"ci_value:kr-pct": "1200"}, "ci_value:kr-pct", "percentage"),
    ({"ci_value:kr-pct": "-5"}, "ci_value:kr-pct", "percentage"),
    ({"ci_value:kr-man": "1.5"}, "ci_value:kr-man", "between 0.0 and 1.0"),
    ({"ci_value:kr-man": None}, "ci_value:kr-man", "score between"),
    ({"ci_value:kr-ms": {"type": "number_input", "value": "7"}}, "ci_value:kr-ms",
     "tick Done"),
    ({"ci_status:kr-inc": None}, "ci_status:kr-inc", "pick a status"),
    ({"ci_status:kr-inc": "purple"}, "ci_status:kr-inc", "green, yellow or red"),
    ({"ci_conf:kr-inc": "certain"}, "ci_conf:kr-inc", "low, medium or high"),
    ({"ci_note:kr-inc": "x" * 3001}, "ci_note:kr-inc", "under 3000"),
    ({"ci_blockers:kr-dec": "y" * 3001}, "ci_blockers:kr-dec", "under 3000"),
])
def test_invalid_field_is_refused_inline(slack_all_fields: Harness, overrides: dict[str, Any],
                                         block: str, words: str) -> None:
    """Every field asked (OKR_CHECKIN_FIELDS), so each error lands on its own input."""
    slack = slack_all_fields
    view = open_modal(slack, "U0BOB")
    body = submit(slack, "U0BOB", view, {**VALID, **overrides})
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block], body
    assert words in body["errors"][block]
    assert slack.checkins() == []


def test_valid_submission_is_stored(slack: Harness) -> None:
    view = open_modal(slack, "U0BOB")
    assert submit(slack, "U0BOB", view, VALID) == {}
    assert len(slack.checkins()) == 5


def test_no_change_without_earlier_checkin_is_refused(slack: Harness) -> None:
    view = open_modal(slack, "U0BOB")
    body = submit(slack, "U0BOB", view, VALID, extra={
        "ci_same:kr-inc": {"ci_same:kr-inc": {"type": "checkboxes", "selected_options": [
            {"text": {"type": "plain_text", "text": "same"}, "value": "same"}]}}})
    assert "no earlier check-in" in body["errors"]["ci_value:kr-inc"]
    assert slack.checkins() == []


def test_forged_kr_of_someone_else_stores_nothing(slack: Harness) -> None:
    view = open_modal(slack, "U0BOB")
    forged = {"ci_value:kr-cy": {"ci_value:kr-cy": {"type": "number_input", "value": "3"}},
              "ci_status:kr-cy": {"ci_status:kr-cy": {"type": "radio_buttons",
                                                      "selected_option": {"value": "green"}}}}
    body = submit(slack, "U0BOB", view, VALID, extra=forged)
    assert body["response_action"] == "errors"
    assert "ci_status:kr-cy" not in body["errors"]  # not in the view: shown on another input
    assert slack.checkins() == []  # Bob's own valid answers are not stored either


def test_forged_unknown_kr_and_private_metadata_change_nothing(slack: Harness) -> None:
    view = open_modal(slack, "U0BOB")
    view["private_metadata"] = '{"c": "C0OTHER", "t": "1.2", "k": ["kr-cy"], "p": "x"}'
    forged = {"ci_status:nope": {"a": {"type": "radio_buttons",
                                      "selected_option": {"value": "green"}}}}
    body = submit(slack, "U0BOB", view, VALID, extra=forged)
    assert body["response_action"] == "errors"
    assert slack.checkins() == []


def test_someone_else_submitting_my_modal_is_refused(slack: Harness) -> None:
    view = open_modal(slack, "U0BOB")
    values = submitted_values(view, VALID)
    resp = slack.send(slack.req.view_submission("U0CY", view, values))
    assert json_body(resp)["response_action"] == "errors"
    assert slack.checkins() == []


def test_lead_may_check_in_on_team_kr_via_forged_state(slack: Harness) -> None:
    """Ada leads eng: a submission for Bob's KR from her is allowed (decided on the server)."""
    view = open_modal(slack, "U0ADA")
    body = submit(slack, "U0ADA", view, {}, extra={
        "ci_value:kr-inc": {"a": {"type": "number_input", "value": "12"}},
        "ci_status:kr-inc": {"a": {"type": "radio_buttons", "selected_option": {"value": "red"}}},
    })
    assert body == {} or body.get("response_action") != "errors", body
    assert [c.value for c in slack.checkins("kr-inc")] == [12.0]


def test_prefilled_with_last_values_and_no_change(slack_all_fields: Harness) -> None:
    slack = slack_all_fields
    view = open_modal(slack, "U0CY")
    submit(slack, "U0CY", view, {"ci_value:kr-cy": "2", "ci_blockers:kr-cy": "QA is busy"})
    view = open_modal(slack, "U0CY")
    value = next(b for b in view["blocks"] if b.get("block_id") == "ci_value:kr-cy")
    assert value["element"]["initial_value"] == "2"
    blockers = next(b for b in view["blocks"] if b.get("block_id") == "ci_blockers:kr-cy")
    assert blockers["element"]["initial_value"] == "QA is busy"
    status = next(b for b in view["blocks"] if b.get("block_id") == "ci_status:kr-cy")
    assert status["element"]["initial_option"]["value"] in ("green", "yellow", "red")
    body = submit(slack, "U0CY", view, {"ci_value:kr-cy": None, "ci_same:kr-cy": ["same"]})
    assert body == {}
    assert [c.value for c in slack.checkins("kr-cy")] == [2.0, 2.0]


def test_many_krs_paginate_within_block_limits(slack: Harness, now: datetime) -> None:
    with slack.session() as s:
        org = seed.Org(workspace=slack.org.workspace, people=slack.org.people,
                       teams=slack.org.teams, cycle=slack.org.cycle)
        for p in org.people.values():
            s.merge(p)
        seed.objective(s, org, "big", "Lots of KRs", owner="U0CY", now=now, krs=[
            {"key": f"kr-big-{i}", "title": f"Big {i}", "kr_type": "increase",
             "start_value": 0.0, "target_value": 10.0} for i in range(22)])
        s.commit()
    view = open_modal(slack, "U0CY")  # 23 KRs: 3 pages of at most 10
    assert len(view["blocks"]) <= 100 and "(1/3)" in view["title"]["text"]
    pages = 0
    while True:
        keys = [b["block_id"].split(":", 1)[1] for b in view["blocks"]
                if b.get("block_id", "").startswith("ci_value:")]
        body = submit(slack, "U0CY", view, {f"ci_value:{k}": "5" for k in keys})
        pages += 1
        if body.get("response_action") != "update":
            break
        next_view = body["view"]
        next_view.update(id=view["id"], hash="h2")
        view = next_view
    assert pages == 3
    assert len(slack.checkins()) == 23
    with slack.session() as s:
        assert s.query(KeyResult).filter(KeyResult.current_value == 5.0).count() == 23
