"""``/okr tracker``: the admins' tracker connection modal, through the real Bolt app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import TrackerConnection
from blocks.ids import Block
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures.slack import Harness, build_harness
from tests.slack.blockkit import validate_view
from tests.slackreq import json_body

__all__ = ["fake_slack"]

TOKEN = "glpat-modal-token-0000wxyz"


@pytest.fixture()
def slack(fake_slack: FakeSlack, db_engine: Engine, rollback_factory: sessionmaker[Session],
          now: datetime) -> Iterator[Harness]:
    harness = build_harness(fake_slack, db_engine, rollback_factory, now,
                            OKR_SECRET_KEY="the operator's key")
    try:
        yield harness
    finally:
        harness.env.drain()
        harness.env.executor.shutdown(wait=True)


def _values(provider: str, host: str, token: str = "",
            account: str = "") -> dict[str, dict[str, Any]]:
    def text(block: Block, value: str) -> dict[str, Any]:
        return {str(block): {"type": "plain_text_input", "value": value or None}}

    return {str(Block.TRACKER_PROVIDER): {str(Block.TRACKER_PROVIDER): {
                "type": "static_select", "selected_option": {"value": provider}}},
            str(Block.TRACKER_HOST): text(Block.TRACKER_HOST, host),
            str(Block.TRACKER_TOKEN): text(Block.TRACKER_TOKEN, token),
            str(Block.TRACKER_API_URL): text(Block.TRACKER_API_URL, ""),
            str(Block.TRACKER_ACCOUNT): text(Block.TRACKER_ACCOUNT, account)}


def test_an_admin_adds_a_connection_in_the_modal(slack: Harness) -> None:
    slack.send(slack.req.command("U0DEE", "tracker"))
    view = slack.fake.last_view()
    assert view is not None and "No tracker connections yet" in str(view)
    validate_view(view)
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("gitlab", "gitlab.example.com", TOKEN))))
    assert body["response_action"] == "update"
    validate_view(body["view"])
    shown = str(body["view"])
    assert "/webhooks/gitlab/" in shown and "not shown again" in shown and TOKEN not in shown
    with slack.session() as s:
        row = s.scalars(select(TrackerConnection)).one()
        assert row.workspace_id == slack.org.workspace.id and row.token
        assert row.token.startswith("enc:v1:") and TOKEN not in row.token

    listed = json_body(slack.send(slack.req.command("U0DEE", "tracker list")))
    assert "gitlab.example.com" in listed["text"] and "...wxyz" in listed["text"]
    assert TOKEN not in listed["text"]
    # A bad host is an inline error; nothing is stored.
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("gitlab", "10.0.0.7"))))
    assert body["response_action"] == "errors" and str(Block.TRACKER_HOST) in body["errors"]
    removed = json_body(slack.send(slack.req.command("U0DEE", "tracker remove gitlab.example.com")))
    assert "Removed" in removed["text"]
    with slack.session() as s:
        assert s.scalars(select(TrackerConnection)).all() == []


def test_members_cannot_open_or_submit_it(slack: Harness) -> None:
    refused = json_body(slack.send(slack.req.command("U0BOB", "tracker")))
    assert "for OKR admins" in refused["text"]
    assert slack.fake.last_view() is None
    # A submission crafted by a member is refused on the server too.
    view = {"type": "modal", "callback_id": "okr_tracker_add", "blocks": []}
    body = json_body(slack.send(slack.req.view_submission(
        "U0BOB", view, _values("github", "github.com", TOKEN))))
    assert body["response_action"] == "errors"
    with slack.session() as s:
        assert s.scalars(select(TrackerConnection)).all() == []


def test_an_admin_connects_a_jira_site_with_its_account_email(slack: Harness) -> None:
    slack.send(slack.req.command("U0DEE", "tracker"))
    view = slack.fake.last_view()
    assert view is not None and '"value": "jira"' in json.dumps(view)
    token = "ATATT3xFfGF0-modal-jira-9876"
    # A Cloud token without its email: an inline error on the email field, nothing stored.
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("jira", "acme.atlassian.net", token))))
    assert body["response_action"] == "errors" and str(Block.TRACKER_ACCOUNT) in body["errors"]
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("jira", "", token, "ops@acme.com"))))
    assert body["response_action"] == "errors" and str(Block.TRACKER_HOST) in body["errors"]
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("jira", "acme.atlassian.net", token, "ops@acme.com"))))
    assert body["response_action"] == "update", body
    validate_view(body["view"])
    assert "/webhooks/jira/" in str(body["view"]) and token not in str(body["view"])
    with slack.session() as s:
        row = s.scalars(select(TrackerConnection)).one()
        assert (row.provider, row.host, row.account) == ("jira", "acme.atlassian.net",
                                                         "ops@acme.com")
    listed = json_body(slack.send(slack.req.command("U0DEE", "tracker list")))
    assert "acme.atlassian.net (ops@acme.com)" in listed["text"]
    assert "...9876" in listed["text"] and token not in listed["text"]


def test_an_admin_adds_a_linear_connection_with_the_canceled_setting(slack: Harness) -> None:
    slack.send(slack.req.command("U0DEE", "tracker"))
    view = slack.fake.last_view()
    assert view is not None and '"linear"' in json.dumps(view)
    values = _values("linear", "", "lin_api_modal_key_0000abcd")
    values[str(Block.TRACKER_CANCELED)] = {str(Block.TRACKER_CANCELED): {
        "type": "checkboxes", "selected_options": [{"value": "done"}]}}
    body = json_body(slack.send(slack.req.view_submission("U0DEE", view, values)))
    assert body["response_action"] == "update", body
    assert "/webhooks/linear/" in str(body["view"])
    with slack.session() as s:
        row = s.scalars(select(TrackerConnection)).one()
        assert (row.provider, row.host, row.canceled_counts_as_done) == (
            "linear", "linear.app", True)
    listed = json_body(slack.send(slack.req.command("U0DEE", "tracker list")))
    assert "linear (canceled counts as done)" in listed["text"]
    # Not ticked: a canceled issue does not count as done.
    slack.send(slack.req.command("U0DEE", "tracker remove linear.app"))
    body = json_body(slack.send(slack.req.view_submission(
        "U0DEE", view, _values("linear", "", "lin_api_modal_key_0000abcd"))))
    assert body["response_action"] == "update"
    with slack.session() as s:
        assert s.scalars(select(TrackerConnection)).one().canceled_counts_as_done is False
