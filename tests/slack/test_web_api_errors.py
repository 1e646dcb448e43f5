"""Web API failures on the way out are logged and the user is told; nothing crashes."""

from __future__ import annotations

import pytest

from blocks.checkin import open_value
from blocks.ids import Action
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values


def test_modal_open_failure_from_button_is_told(slack: Harness) -> None:
    slack.fake.fail_next("views.open", "trigger_expired")
    req = slack.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(), channel="D0BOB",
                           message_ts="1.1")
    assert slack.send(req).status == 200
    told = slack.fake.responses(req.response_key)
    assert told and "Slack refused" in told[0]["text"]


def test_modal_open_failure_from_command_is_told(slack: Harness) -> None:
    slack.fake.fail_next("views.open", "trigger_expired")
    _, body = slack.command("U0BOB", "checkin")
    assert "Slack refused" in body["text"]


@pytest.mark.slow
def test_rate_limited_views_open_is_retried(slack: Harness) -> None:
    slack.fake.rate_limit_next("views.open", count=1, retry_after=0)
    slack.command("U0BOB", "checkin")
    assert slack.fake.last_view() is not None


def test_prompt_update_failure_keeps_the_checkin(slack: Harness) -> None:
    msg = slack.app.client.chat_postMessage(channel="U0CY", text="Check in?")
    slack.send(slack.req.button("U0CY", Action.OPEN_CHECKIN, open_value(),
                                channel=msg["channel"], message_ts=msg["ts"]))
    view = slack.fake.last_view()
    assert view is not None
    slack.fake.fail_next("chat.update", "message_not_found")
    resp = slack.send(slack.req.view_submission("U0CY", view,
                                                submitted_values(view, {"ci_value:kr-cy": "1"})))
    assert resp.status == 200
    assert len(slack.checkins("kr-cy")) == 1
    assert slack.fake.home("U0CY") is not None  # the Home refresh still ran


def test_invalid_open_value_opens_everything(slack: Harness) -> None:
    slack.send(slack.req.button("U0BOB", Action.OPEN_CHECKIN, "{not json", channel="D0BOB",
                                message_ts="1.2"))
    view = slack.fake.last_view()
    assert view is not None and "Grow activation" in str(view["blocks"])


def test_open_value_limits_krs_but_not_authority(slack: Harness) -> None:
    slack.send(slack.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(kr_keys=["kr-ms"]),
                                channel="D0BOB", message_ts="1.3"))
    view = slack.fake.last_view()
    assert view is not None and "Ship the walkthrough" in str(view["blocks"])
    assert "Grow activation" not in str(view["blocks"])
    slack.send(slack.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(kr_keys=["kr-cy"]),
                                channel="D0BOB", message_ts="1.4"))
    view = slack.fake.last_view()
    assert view is not None and "Fix onboarding bugs" not in str(view["blocks"])
