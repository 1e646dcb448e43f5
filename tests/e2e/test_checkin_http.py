"""Check-ins that take seconds, over real HTTP against ``okr serve`` on PostgreSQL: a reply in
the DM records a value, and the prompt's No change button records the last one again, once."""

from __future__ import annotations

import re
import time

import pytest
from slack_sdk import WebClient
from sqlalchemy import create_engine, text

from app.db import normalise_url
from blocks.ids import Action
from blocks.prompt import no_change_value
from tests.fixtures.served import Served, wait_until

pytestmark = pytest.mark.slow


def _checkins(served: Served) -> list[tuple[float | None, str | None, str | None, str]]:
    engine = create_engine(normalise_url(served.database_url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.value, c.status, c.note, c.source FROM checkins c "
            "JOIN key_results k ON k.id = c.kr_id WHERE k.key = 'kr-cy' ORDER BY c.id")).all()
    engine.dispose()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_reply_in_the_dm_then_no_change_over_http(served: Served) -> None:
    fake = served.fake
    client = WebClient(token="xoxb-e2e", base_url=fake.api_url)
    prompt = client.chat_postMessage(channel="U0CY", text="Time to check in")
    channel, ts = prompt["channel"], prompt["ts"]

    # One message in the DM (Cy has one open KR): value, status and a note.
    event = {"type": "message", "channel_type": "im", "channel": channel, "user": "U0CY",
             "text": "2 on track two bugs fixed", "ts": "1700000000.000100"}
    for retry in (None, 1):  # Slack's retry of the same event records nothing more
        resp = served.req.event(event, event_id="EvDM1", retry_num=retry).post(
            served.events_url)
        assert resp.status_code == 200
        wait_until(lambda: len(_checkins(served)) == 1)
    wait_until(lambda: any(c.params.get("thread_ts") == event["ts"]
                           for c in fake.calls_to("chat.postMessage")))
    time.sleep(0.2)
    assert _checkins(served) == [(2.0, "green", "two bugs fixed", "slack")]
    answer = next(c.params for c in fake.calls_to("chat.postMessage")
                  if c.params.get("thread_ts") == event["ts"])
    assert "Recorded 1 check-in" in str(answer)

    # One tap on the prompt's No change: the last value and status again, once.
    value = no_change_value(1, ["kr-cy"])
    keys = []
    for _ in range(2):
        tap = served.req.button("U0CY", Action.NO_CHANGE, value, channel=channel,
                                message_ts=ts)
        assert tap.post(served.events_url).status_code == 200
        keys.append(tap.response_key)
        wait_until(lambda: len(_checkins(served)) == 2)
    wait_until(lambda: all(fake.responses(key) for key in keys))
    time.sleep(0.2)
    assert _checkins(served)[1:] == [(2.0, "green", "no change", "slack")]
    first, again = (fake.responses(key)[0] for key in keys)
    assert first["replace_original"] is True and "Checked in" in first["text"]
    # The double tap shows the same summary (the clock may pass a minute between the taps).
    assert re.sub(r"\d\d:\d\d", "HH:MM", again["text"]) == re.sub(
        r"\d\d:\d\d", "HH:MM", first["text"])
