"""Check-ins written in the DM: one message, recorded once, answered in the thread."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select

from app.models import Checkin, KeyResult, ProcessedEvent
from tests.fixtures.slack import Harness

_ts = itertools.count(1)


def dm(text: str, *, user: str = "U0BOB", ts: str | None = None,
       **extra: Any) -> dict[str, Any]:
    return {"type": "message", "channel": f"D{user}", "channel_type": "im", "user": user,
            "text": text, "ts": ts or f"1700000{next(_ts):03d}.000100", **extra}


def send(slack: Harness, event: dict[str, Any], event_id: str, retry: int | None = None) -> int:
    return slack.send(slack.req.event(event, event_id=event_id, retry_num=retry)).status


def answers(slack: Harness) -> list[dict[str, Any]]:
    return [c.params for c in slack.fake.calls_to("chat.postMessage")]


def kr(slack: Harness, key: str) -> KeyResult:
    with slack.session() as s:
        return s.scalars(select(KeyResult).where(KeyResult.key == key)).one()


def test_one_message_changes_one_value_and_a_retry_records_nothing(slack: Harness) -> None:
    """The measure: to change one value by reply, 1 message."""
    event = dm("activation 30 green Half way there")
    assert send(slack, event, "EvA1") == 200
    rows = slack.checkins()
    assert [(r.value, r.status, r.note, r.source) for r in rows] == [
        (30.0, "green", "Half way there", "slack")]
    assert rows[0].idempotency_key == f"slack:dm:DU0BOB:{event['ts']}:kr-inc"
    assert kr(slack, "kr-inc").current_value == 30.0
    [reply] = answers(slack)
    assert reply["channel"] == "DU0BOB" and reply["thread_ts"] == event["ts"]
    assert reply["text"] == "Recorded 1 check-in."
    shown = str(reply["blocks"])
    assert "Grow activation" in shown and "30 users" in shown and "on track" in shown
    assert "Check in" not in shown  # all understood: no form needed
    print("to change one value by reply: 1 message")
    # Slack retries the same event, then (say) replays it under a new id: nothing more.
    assert send(slack, event, "EvA1", retry=1) == 200
    assert send(slack, event, "EvA2") == 200
    assert len(slack.checkins()) == 1 and len(answers(slack)) == 1
    with slack.session() as s:
        assert s.get(ProcessedEvent, "EvA1") is not None
    slack.fake.assert_no_violations()


def test_unreadable_line_stores_nothing_from_it_and_offers_the_form(slack: Harness) -> None:
    send(slack, dm("walkthrough done shipped on Friday\nbugs 3\nactivation +5"), "EvB1")
    rows = slack.checkins()
    assert [(r.value, r.note) for r in rows] == [(1.0, "shipped on Friday")]
    assert kr(slack, "kr-ms").state == "done"
    assert kr(slack, "kr-inc").current_value is None
    [reply] = answers(slack)
    assert "Recorded 1 check-in; I did not understand 2 lines" in reply["text"]
    shown = str(reply["blocks"])
    assert "nothing was stored from them" in shown
    assert "none of your open key results is called" in shown  # "bugs" is Cy's KR
    assert "not the change" in shown
    assert "okr_open_checkin" in shown and "`kr-inc`" in shown
    slack.fake.assert_no_violations()


def test_nothing_understood_records_nothing(slack: Harness) -> None:
    send(slack, dm("hello there"), "EvC1")
    assert slack.checkins() == []
    [reply] = answers(slack)
    assert reply["text"] == "I did not understand 1 line: nothing was recorded."
    assert "okr_open_checkin" in str(reply["blocks"])


def test_no_change_repeats_last_values(slack: Harness) -> None:
    send(slack, dm("activation 20 yellow"), "EvD1")
    send(slack, dm("no change"), "EvD2")
    inc = [r for r in slack.checkins() if r.note == "no change"]
    assert [(r.value, r.status) for r in inc] == [(20.0, "yellow")]
    reply = answers(slack)[-1]
    # The other KRs were never checked in: said so, nothing stored for them.
    assert "Recorded 1 check-in; I did not understand 4 lines" in reply["text"]
    assert "no earlier check-in to repeat" in str(reply["blocks"])


def test_bots_edits_deletions_and_channels_are_ignored(slack: Harness) -> None:
    ignored = [
        dm("activation 31", bot_id="B0BOT"),
        dm("activation 32", subtype="bot_message"),
        {"type": "message", "subtype": "message_changed", "channel": "DU0BOB",
         "channel_type": "im", "message": {"user": "U0BOB", "text": "activation 33"},
         "ts": "1700000999.000001"},
        {"type": "message", "subtype": "message_deleted", "channel": "DU0BOB",
         "channel_type": "im", "deleted_ts": "1700000001.000100", "ts": "1700000999.000002"},
        {**dm("activation 34"), "channel_type": "channel", "channel": "C0ENG"},
    ]
    for i, event in enumerate(ignored):
        assert send(slack, event, f"EvE{i}") == 200
    assert slack.checkins() == [] and answers(slack) == []


def test_someone_elses_kr_is_not_recorded(slack: Harness) -> None:
    send(slack, dm("kr-cy 2", user="U0BOB"), "EvF1")
    assert slack.checkins() == []
    assert "none of your open key results" in str(answers(slack)[0]["blocks"])
    with slack.session() as s:
        assert s.scalars(select(Checkin)).first() is None


def test_reply_in_a_thread_is_answered_there(slack: Harness) -> None:
    send(slack, dm("delight 70% green", thread_ts="1700000000.000001"), "EvG1")
    assert kr(slack, "kr-man").manual_score == 0.7
    assert answers(slack)[0]["thread_ts"] == "1700000000.000001"
