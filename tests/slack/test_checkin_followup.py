"""A check-in submission acks once its check-ins are stored; the rest follows the ack.

The DM prompt's summary and the Home refresh run after the ack, from what the submission
recorded; their failures are logged and never lose the check-in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from blocks.checkin import open_value
from blocks.ids import Action
from handlers import checkin as checkin_handler
from tests.dbutil import recorded_statements
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values
from tests.slackreq import SignedRequest, json_body


def _prompt(slack: Harness, user: str) -> tuple[str, str]:
    msg = slack.app.client.chat_postMessage(channel=user, text="Time to check in")
    return msg["channel"], msg["ts"]


def _submission(slack: Harness, user: str = "U0BOB") -> SignedRequest:
    """The check-in modal opened from a DM prompt, filled in for every KR."""
    channel, ts = _prompt(slack, user)
    slack.send(slack.req.button(user, Action.OPEN_CHECKIN, open_value(delivery_id=3),
                                channel=channel, message_ts=ts))
    view = slack.fake.last_view()
    assert view is not None
    values = submitted_values(view, {
        "ci_value:kr-inc": "30", "ci_value:kr-dec": "9", "ci_value:kr-ms": ["done"],
        "ci_value:kr-man": "0.6", "ci_value:kr-pct": "40"})
    return slack.req.view_submission(user, view, values)


@pytest.fixture()
def statements(db_engine: Engine) -> Iterator[list[str]]:
    with recorded_statements(db_engine) as seen:
        yield seen


def test_the_ack_comes_before_the_follow_up(slack: Harness) -> None:
    submission = _submission(slack)
    slack.fake.slow("chat.update", 1.0)
    started = time.monotonic()
    resp = submission.dispatch(slack.app)  # no drain: what Slack waits for
    took = time.monotonic() - started
    assert resp.status == 200 and json_body(resp) == {}
    assert took < 0.9
    assert len(slack.checkins()) == 5  # stored (committed) before the ack
    slack.env.drain()
    (update,) = slack.fake.calls_to("chat.update")
    assert "Checked in on 5 key results" in update.params["text"]


def test_the_summary_is_what_the_submission_recorded(slack: Harness,
                                                     statements: list[str]) -> None:
    """The DM prompt's summary (with Edit and Undo on each line) comes from the submission
    itself: the follow-up reads none of the check-ins back."""
    submission = _submission(slack)
    statements.clear()
    slack.send(submission)
    ids = [c.id for c in slack.checkins()]
    (update,) = slack.fake.calls_to("chat.update")
    assert "Checked in on 5 key results" in update.params["text"]
    blocks = update.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    undo = {e["action_id"] for b in blocks if b.get("type") == "actions"
            for e in b["elements"]}
    assert undo >= {f"{Action.UNDO_CHECKIN}:{i}" for i in ids}
    read_back = [s for s in statements if "idempotency_key IN" in s.replace("\n", " ")
                 and s.lstrip().upper().startswith("SELECT")]
    assert read_back == []


def test_a_failed_prompt_update_is_logged_and_keeps_the_check_in(
        slack: Harness, caplog: pytest.LogCaptureFixture) -> None:
    submission = _submission(slack)
    slack.fake.fail_next("chat.update", "message_not_found")
    with caplog.at_level(logging.ERROR):
        resp = slack.send(submission)
    assert json_body(resp) == {}
    assert len(slack.checkins()) == 5
    assert any(r.getMessage() == "checkin.prompt_update_failed" for r in caplog.records)
    home = slack.fake.home("U0BOB")  # the rest of the follow-up still ran
    assert home is not None and "Grow activation" in str(home["blocks"])


def test_a_follow_up_that_raises_is_logged_and_keeps_the_check_in(
        slack: Harness, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    submission = _submission(slack)

    def broken(*_args: object) -> None:
        raise RuntimeError("home unavailable")

    monkeypatch.setattr(checkin_handler, "refresh_later", broken)
    with caplog.at_level(logging.ERROR):
        resp = slack.send(submission)
    assert json_body(resp) == {}
    assert len(slack.checkins()) == 5
    assert slack.fake.calls_to("chat.update")  # the prompt was updated before the failure
    failed = [r for r in caplog.records if r.getMessage() == "slack.after_ack_failed"]
    assert failed and getattr(failed[0], "task", None) == "after_checkin"


@pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)
def test_after_a_check_in_the_report_is_brought_up_to_date_not_read_again(
        slack: Harness, statements: list[str]) -> None:
    """The submission tells the report cache what it moved: the Home refresh after it reads
    those KRs again, not the whole cycle, and the next ``/okr mine`` costs the stamp alone
    and shows the new values."""
    slack.command("U0BOB", "mine")  # a report in the cache
    cache = slack.env.report_cache
    misses = cache.misses
    submission = _submission(slack)
    slack.send(submission)
    statements.clear()
    _, body = slack.command("U0BOB", "mine")
    assert (cache.misses, cache.patched) == (misses, 1)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "xmin" in reads[0], reads
    assert "30" in json.dumps(body)  # kr-inc's new value
