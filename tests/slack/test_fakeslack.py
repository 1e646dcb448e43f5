"""The fake Slack itself: recording, faults, rate limits, uploads and Block Kit checks."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from app.slack import retry_handlers
from tests.fakeslack import FakeSlack


def client(fake: FakeSlack, **kw: object) -> WebClient:
    return WebClient(token="xoxb-t", base_url=fake.api_url, **kw)  # type: ignore[arg-type]


def test_records_and_answers() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", name="Ada", tz="Asia/Tokyo", deleted=True)
        c = client(fake)
        assert c.auth_test()["user_id"] == "U0BOT"
        user = c.users_info(user="U1")["user"]
        assert (user["tz"], user["deleted"]) == ("Asia/Tokyo", True)
        a = c.chat_postMessage(channel="U1", text="hi")
        b = c.chat_postMessage(channel="U1", text="again")
        assert a["channel"] == "D1" and float(b["ts"]) > float(a["ts"])
        c.chat_update(channel=a["channel"], ts=a["ts"], text="edited")
        assert fake.messages[(a["channel"], a["ts"])]["text"] == "edited"
        assert fake.calls_to("chat.postMessage")[0].token == "xoxb-t"
        with pytest.raises(SlackApiError, match="user_not_found"):
            c.users_info(user="U404")
        with pytest.raises(SlackApiError, match="trigger_exchanged"):
            view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
            c.views_open(trigger_id="t1", view=view)
            c.views_open(trigger_id="t1", view=view)
        WebhookClient(fake.response_url("k")).send(text="later")
        assert fake.responses("k") == [{"text": "later"}]
        up = c.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="r.csv", title="R")
        assert up["file"]["name"] == "r.csv"
        assert fake.files[up["file"]["id"]]["uploaded"] == 8
        fake.assert_no_violations()


@pytest.mark.slow
def test_injected_errors_and_retries() -> None:
    with FakeSlack() as fake:
        c = client(fake, retry_handlers=retry_handlers())
        fake.fail_next("chat.postMessage", "channel_not_found")
        with pytest.raises(SlackApiError, match="channel_not_found"):
            c.chat_postMessage(channel="C1", text="x")
        fake.server_error_next("chat.postMessage", count=1, status=503)
        fake.rate_limit_next("chat.postMessage", count=1, retry_after=0)
        c.chat_postMessage(channel="C1", text="x")
        statuses = [call.status for call in fake.calls if call.method == "chat.postMessage"]
        assert statuses == [200, 503, 429, 200]


def test_rate_limit_per_second() -> None:
    with FakeSlack() as fake:
        fake.rate_limit("users.info", per_second=3, retry_after=1)
        fake.add_user("U1")
        c = client(fake)
        ok = limited = 0
        for _ in range(5):
            try:
                c.users_info(user="U1")
                ok += 1
            except SlackApiError as exc:
                assert exc.response.status_code == 429
                assert exc.response.headers["Retry-After"] == "1"
                limited += 1
        assert (ok, limited) == (3, 2)


def test_slow_method() -> None:
    with FakeSlack() as fake:
        fake.slow("auth.test", 0.2)
        started = time.monotonic()
        client(fake).auth_test()
        assert time.monotonic() - started >= 0.2


def test_violations_are_recorded() -> None:
    with FakeSlack() as fake:
        c = client(fake)
        c.chat_postMessage(channel="C1", blocks=[{"type": "section", "text": {
            "type": "mrkdwn", "text": "x" * 3001}}] * 51)
        c.views_open(trigger_id="t", view={
            "type": "modal", "title": {"type": "plain_text", "text": "A title that is too long"
                                                                      " for Slack"},
            "private_metadata": "m" * 3001,
            "blocks": [{"type": "input", "block_id": "a", "label": {"type": "plain_text",
                                                                     "text": "L"},
                        "element": {"type": "radio_buttons", "action_id": "r", "options": [
                            {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
                            for i in range(11)]}},
                       {"type": "actions", "block_id": "a", "elements": [
                           {"type": "button", "action_id": "r", "value": "v" * 2001,
                            "text": {"type": "plain_text", "text": "b" * 76}}]}]})
        text = "\n".join(fake.violations)
        for expected in ("top-level text is required", "51 blocks, limit 50",
                         "3001 chars, limit 3000", "title: text is", "private_metadata",
                         "a modal with input blocks needs submit", "11 options, allowed 1-10",
                         "duplicate block_id 'a'", "duplicate action_id 'r'",
                         "button value", "text is 76 chars, limit 75"):
            assert expected in text, expected
        with pytest.raises(AssertionError, match="Block Kit violations"):
            fake.assert_no_violations()
