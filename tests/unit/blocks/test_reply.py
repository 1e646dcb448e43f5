"""The thread answer to a DM check-in: plain words, escaped text, within Block Kit's limits."""

from __future__ import annotations

from app.domain import KRType, ReplyLine, ReplyOutcome, TrafficLight
from blocks.reply import reply_message
from tests.slack.blockkit import validate_message

CHOICES = (("kr-inc", "Grow activation"), ("kr-ms", "Ship the walkthrough"))


def test_recorded_lines_in_plain_words() -> None:
    out = ReplyOutcome(lines=(
        ReplyLine("activation 30", kr_title="Grow activation", kr_type=KRType.INCREASE,
                  unit="users", value=30, previous=20, status=TrafficLight.GREEN,
                  status_kept=True),
        ReplyLine("walkthrough done red", kr_title="Ship the walkthrough",
                  kr_type=KRType.MILESTONE, value=1, previous=0, status=TrafficLight.RED,
                  note="late <by> a week & more"),
        ReplyLine("delight 70%", kr_title="Delight users", kr_type=KRType.MANUAL, value=0.7),
        ReplyLine("no change", kr_title="Docs", kr_type=KRType.PERCENT, value=40,
                  previous=40, no_change=True, note="no change",
                  status=TrafficLight.YELLOW, status_kept=True),
    ), choices=CHOICES)
    msg = reply_message(out)
    assert msg["text"] == "Recorded 4 check-ins."
    text = msg["blocks"][0]["text"]["text"]
    assert "*Grow activation*: 30 users (was 20 users), still on track" in text
    assert "*Ship the walkthrough*: done (was not done), off track" in text
    assert "late &lt;by&gt; a week &amp; more" in text
    assert "*Delight users*: 70%, no status given" in text
    assert "*Docs*: no change (40%), still at risk" in text
    assert len(msg["blocks"]) == 1  # nothing to fix: no hint, no button
    assert validate_message(msg) == []


def test_problems_say_nothing_was_stored_and_offer_the_form() -> None:
    out = ReplyOutcome(lines=(
        ReplyLine("<@U1> *bold* " + "x" * 5000, problem="none of your open key results is "
                                                       "called “<x>”"),
        ReplyLine("activation 30", kr_title="Grow activation", kr_type=KRType.INCREASE,
                  value=30),
    ), choices=CHOICES * 20)
    msg = reply_message(out)
    assert "I did not understand 1 line, and stored nothing from it" in msg["text"]
    bad = msg["blocks"][1]["text"]["text"]
    assert "so nothing was stored from it" in bad and "&lt;@U1&gt;" in bad
    assert "“&lt;x&gt;”" in bad
    assert "`kr-inc` Grow activation" in str(msg["blocks"][2])
    assert msg["blocks"][3]["elements"][0]["action_id"] == "okr_open_checkin"
    assert validate_message(msg) == []


def test_no_krs_and_help() -> None:
    msg = reply_message(ReplyOutcome(help=True))
    assert "no open key results" in str(msg["blocks"])
    assert all(b["type"] != "actions" for b in msg["blocks"])
    assert validate_message(reply_message(ReplyOutcome(help=True, choices=CHOICES))) == []
