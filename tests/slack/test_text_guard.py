"""Text that cannot be stored (NUL characters, unpaired surrogates) typed into a modal or a
slash command gets a clear error where it was typed, and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Objective
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values
from tests.slackreq import json_body


def _objectives(h: Harness) -> int:
    with h.session() as s:
        return int(s.scalar(select(func.count()).select_from(Objective)) or 0)


@pytest.mark.parametrize("bad", ["Grow\x00 revenue", "Grow \ud800 revenue"])
def test_a_new_objective_title_that_cannot_be_stored_is_a_field_error(
        slack: Harness, bad: str) -> None:
    before = _objectives(slack)
    slack.command("U0BOB", "new")
    view = slack.fake.last_view()
    assert view is not None
    body = json_body(slack.send(slack.req.view_submission("U0BOB", view, submitted_values(
        view, {"obj_title": bad, "kr_title:0": "Ship it", "kr_type:0": "milestone"}))))
    assert body["response_action"] == "errors"
    [(block, message)] = body["errors"].items()
    assert block == "obj_title" and "please retype it" in message
    assert _objectives(slack) == before


def test_an_edited_kr_title_that_cannot_be_stored_is_a_field_error(slack: Harness) -> None:
    slack.command("U0BOB", "edit kr-inc")
    view = slack.fake.last_view()
    assert view is not None
    body = json_body(slack.send(slack.req.view_submission("U0BOB", view, submitted_values(
        view, {"kr_title": "Sign\x00ups"}))))
    assert body["response_action"] == "errors" and list(body["errors"]) == ["kr_title"]


def test_a_command_that_cannot_be_stored_gets_one_line(slack: Harness) -> None:
    _resp, body = slack.command("U0BOB", "show \x00kr-inc")
    assert body["response_type"] == "ephemeral"
    assert "NUL character" in body["text"] and "retype" in body["text"]
