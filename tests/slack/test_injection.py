"""No user text can mention @channel/@here or disguise a link on any Slack surface.

Every user-controlled string of the standard organisation (objective and KR titles, units,
people's and teams' names, the cycle's name, check-in notes and blockers, scores' evidence and
reasons, reflections, Slack display names) becomes the payload below; then the real Bolt app
is driven against the fake Slack through the main surfaces and every mrkdwn text and fallback
``text`` it sent is checked. Plain-text objects are not parsed by Slack: they show the text as
typed, so they must not be escaped (``&`` stays ``&``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.domain import CheckinAnswer, CheckinSource
from app.models import Cycle, KeyResult, Objective, Person, Team
from app.services.checkins import record as checkins
from blocks.checkin import open_value
from blocks.ids import Action
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values
from tests.slack.test_review_cycle import dms, open_from_dm, run_tick
from tests.slackreq import json_body

PAYLOAD = "<!channel> <http://evil.example|reset password> & @here"
ESCAPED = "&lt;!channel&gt; &lt;http://evil.example|reset password&gt; &amp; @here"
UNIT = "<!here> <http://evil.ex|x> &"  # units hold 32 characters
# In mrkdwn: a live mention or a disguised link, or text escaped twice (shown as "&lt;").
BAD = ("<!channel", "<!here", "<http://evil", "&amp;lt;", "&amp;amp;")
MRKDWN_KEYS = ("text", "initial_comment", "fallback", "pretext")


def _walk(obj: Any, mrkdwn: list[str], plain: list[str]) -> None:
    if isinstance(obj, dict):
        if obj.get("type") == "plain_text":
            plain.append(str(obj.get("text", "")))
            return
        for key, value in obj.items():
            if key in MRKDWN_KEYS and isinstance(value, str):
                mrkdwn.append(value)
            elif isinstance(value, str) and value[:1] in "[{":
                try:
                    _walk(json.loads(value), mrkdwn, plain)
                except ValueError:
                    continue
            else:
                _walk(value, mrkdwn, plain)
    elif isinstance(obj, list):
        for item in obj:
            _walk(item, mrkdwn, plain)


class Seen:
    """Everything the app showed: acks and every call to the fake Slack."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.acks: list[dict[str, Any]] = []

    def command(self, user: str, text: str, **kw: Any) -> dict[str, Any]:
        _resp, body = self.h.command(user, text, **kw)
        self.acks.append(body)
        return body

    def send(self, request: Any) -> dict[str, Any]:
        resp = self.h.send(request)
        try:
            body = json_body(resp)
        except ValueError:
            return {}
        self.acks.append(body)
        return body

    def texts(self) -> tuple[list[str], list[str]]:
        mrkdwn: list[str] = []
        plain: list[str] = []
        with self.h.fake.lock:
            calls = [c.params for c in self.h.fake.calls]
        for payload in [*self.acks, *calls]:
            _walk(payload, mrkdwn, plain)
        return mrkdwn, plain

    def assert_safe(self, *, expect: int = 1) -> None:
        mrkdwn, plain = self.texts()
        leaks = sorted({line for t in mrkdwn for line in t.splitlines()
                        if any(b in line for b in BAD)})
        assert not leaks, "unescaped user text in mrkdwn:\n" + "\n".join(leaks[:30])
        shown = sum(ESCAPED in t for t in mrkdwn)
        assert shown >= expect, f"the payload was shown escaped only {shown} times"
        assert not [t for t in plain if "&lt;" in t or "&amp;" in t], "plain_text escaped"


def poison(h: Harness) -> None:
    """Every user-controlled string becomes the payload; notes and blockers too."""
    with h.session() as s:
        for o in s.scalars(select(Objective)):
            o.title = PAYLOAD
        for kr in s.scalars(select(KeyResult)):
            kr.title = PAYLOAD
            if kr.unit:
                kr.unit = UNIT
        for p in s.scalars(select(Person)):
            p.name = PAYLOAD
        for t in s.scalars(select(Team)):
            t.name = PAYLOAD
        for c in s.scalars(select(Cycle)):
            c.name = PAYLOAD
        s.flush()
        for key, value in (("kr-inc", 30.0), ("kr-cy", 2.0)):
            kr = s.scalars(select(KeyResult).where(KeyResult.key == key)).one()
            checkins.record(session=s, workspace_id=kr.workspace_id, kr=kr,
                            data=CheckinAnswer(kr_key=key, value=value, status="yellow",
                                               note=PAYLOAD, blockers=PAYLOAD),
                            author_id=kr.owner_id, actor_label="test",
                            source=CheckinSource.SLACK, now=h.now - timedelta(days=1))
        s.commit()
    for sid in ("U0ADA", "U0BOB", "U0CY", "U0DEE"):
        h.fake.add_user(sid, name=PAYLOAD)


@pytest.fixture()
def seen(slack: Harness) -> Iterator[Seen]:
    poison(slack)
    yield Seen(slack)


def test_views_of_okrs_escape_user_text(seen: Seen) -> None:
    for user, text in [("U0BOB", "mine"), ("U0BOB", "list"), ("U0ADA", "list at-risk"),
                       ("U0DEE", "list company"), ("U0BOB", "show eng-onboarding"),
                       ("U0BOB", "show kr-inc"), ("U0BOB", "show kr-inc share"),
                       ("U0BOB", "show eng-onboarding share"), ("U0BOB", "show evil.example"),
                       ("U0BOB", "show &lt;!channel&gt; nothing like it"),
                       ("U0BOB", "cycle"), ("U0BOB", "next"), ("U0ADA", "digest"),
                       ("U0BOB", "timeline"), ("U0BOB", "help"),
                       ("U0BOB", "link kr-inc https://github.com/acme/api/issues/1"),
                       ("U0BOB", "unlink https://github.com/acme/api/issues/1")]:
        seen.command(user, text)
    seen.assert_safe(expect=10)


def test_home_and_checkin_modal_escape_user_text(seen: Seen) -> None:
    h = seen.h
    seen.send(h.req.event({"type": "app_home_opened", "user": "U0BOB", "tab": "home"}))
    assert h.fake.home("U0BOB") is not None
    seen.command("U0BOB", "checkin")
    assert h.fake.last_view() is not None
    seen.assert_safe(expect=2)


def test_checkin_summary_corrections_and_dm_replies_escape_user_text(seen: Seen) -> None:
    h = seen.h
    msg = h.app.client.chat_postMessage(channel="U0BOB", text="Time to check in")
    channel, ts = msg["channel"], msg["ts"]
    seen.send(h.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(kr_keys=["kr-inc"]),
                           channel=channel, message_ts=ts))
    view = h.fake.last_view()
    assert view is not None
    seen.send(h.req.view_submission("U0BOB", view, submitted_values(view, {
        "ci_value:kr-inc": "31", "ci_note:kr-inc": PAYLOAD})))
    summary = h.fake.calls_to("chat.update")[-1].params
    blocks = summary["blocks"] if isinstance(summary["blocks"], list) \
        else json.loads(summary["blocks"])
    undo = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"].startswith(str(Action.UNDO_CHECKIN)))
    seen.send(h.req.button("U0BOB", undo["action_id"], undo["value"], channel=channel,
                           message_ts=ts, message={"type": "message", "ts": ts, "text": "",
                                                   "user": "U0BOT", "blocks": blocks}))
    seen.send(h.req.event({"type": "message", "channel": "DU0BOB", "channel_type": "im",
                           "user": "U0BOB", "ts": "1700000001.000100",
                           "text": f"kr-inc 33 green {PAYLOAD}"}))
    seen.send(h.req.event({"type": "message", "channel": "DU0BOB", "channel_type": "im",
                           "user": "U0BOB", "ts": "1700000002.000100",
                           "text": "&lt;!channel&gt; 12 <http://evil.example|x>"}))
    assert len(h.fake.calls_to("chat.postMessage")) >= 3
    seen.assert_safe(expect=2)


def test_edit_and_create_confirmations_escape_titles(seen: Seen) -> None:
    h = seen.h
    seen.command("U0BOB", "edit kr-inc")
    view = h.fake.last_view()
    assert view is not None
    body = seen.send(h.req.view_submission("U0BOB", view, submitted_values(
        view, {"kr_title": PAYLOAD + " again"})))
    assert body["response_action"] == "update"
    seen.command("U0BOB", "new")
    view = h.fake.last_view()
    assert view is not None
    body = seen.send(h.req.view_submission("U0BOB", view, submitted_values(view, {
        "obj_title": PAYLOAD + " new", "kr_title:0": PAYLOAD + " kr", "kr_type:0": "milestone",
    })))
    assert body["response_action"] == "update"
    seen.assert_safe(expect=2)


def test_prompts_digests_and_review_escape_user_text(seen: Seen) -> None:
    h = seen.h
    for day in range(8):  # a week of prompts and digests
        run_tick(h, h.now + timedelta(days=day))
    assert dms(h, "U0BOB"), "no prompt was sent"
    seen.command("U0DEE", "cycle review")
    run_tick(h, h.now + timedelta(days=8))
    view = open_from_dm(h, "U0BOB", Action.OPEN_SELF_SCORE)
    seen.send(h.req.view_submission("U0BOB", view, submitted_values(
        view, {"rv_self:kr-inc": "0.6", "rv_evidence:kr-inc": PAYLOAD})))
    seen.command("U0ADA", "review")
    lead = h.fake.last_view()
    assert lead is not None
    seen.send(h.req.view_submission("U0ADA", lead, submitted_values(
        lead, {"rv_final:kr-inc": "0.5", "rv_reason:kr-inc": PAYLOAD})))
    seen.command("U0ADA", "review")
    seen.command("U0BOB", "reflect eng-onboarding")
    reflect = h.fake.last_view()
    assert reflect is not None
    seen.send(h.req.view_submission("U0BOB", reflect, submitted_values(reflect, {
        "rf_worked": PAYLOAD, "rf_carry": PAYLOAD})))
    seen.command("U0DEE", "cycle close")
    run_tick(h, h.now + timedelta(days=9))
    run_tick(h, h.now + timedelta(days=9, hours=1))
    seen.command("U0DEE", "report", channel_id="C0ENG")
    seen.assert_safe(expect=10)


def test_plain_text_shows_what_was_typed(seen: Seen) -> None:
    body = seen.command("U0BOB", "show eng-onboarding")
    (head,) = [b for b in body["blocks"] if b["type"] == "header"]
    assert head["text"]["text"] == PAYLOAD  # Slack does not parse plain_text: & stays &
