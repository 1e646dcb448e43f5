"""The whole check-in flow: DM button -> views.open -> submit -> stored -> chat.update -> Home."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AuditEntry, KeyResult
from blocks.checkin import open_value
from blocks.ids import Action
from tests.fixtures.slack import Harness
from tests.slack.fields import slack_all_fields
from tests.slack.state import submitted_values
from tests.slackreq import json_body

__all__ = ["slack_all_fields"]


def _prompt(slack: Harness, user: str) -> tuple[str, str]:
    """A DM prompt as the scheduler would post it."""
    msg = slack.app.client.chat_postMessage(channel=user, text="Time to check in",
                                            blocks=[{"type": "section", "text": {
                                                "type": "mrkdwn", "text": "Time to check in"}}])
    return msg["channel"], msg["ts"]


def test_checkin_from_dm_prompt(slack_all_fields: Harness) -> None:
    """Every field asked (OKR_CHECKIN_FIELDS): confidence and blockers are stored too."""
    slack = slack_all_fields
    channel, ts = _prompt(slack, "U0BOB")
    resp = slack.send(slack.req.button("U0BOB", Action.OPEN_CHECKIN, open_value(delivery_id=7),
                                       channel=channel, message_ts=ts))
    assert resp.status == 200
    view = slack.fake.last_view()
    assert view is not None
    keys = {b["block_id"].split(":", 1)[1] for b in view["blocks"]
            if b.get("block_id", "").startswith("ci_status:")}
    assert keys == {"kr-inc", "kr-dec", "kr-ms", "kr-man", "kr-pct"}
    values = submitted_values(view, {
        "ci_value:kr-inc": "30", "ci_value:kr-dec": "9", "ci_value:kr-ms": ["done"],
        "ci_value:kr-man": "0.6", "ci_value:kr-pct": "40", "ci_status:kr-inc": "yellow",
        "ci_note:kr-inc": "Half way there", "ci_blockers:kr-dec": "Waiting on legal",
        "ci_conf:kr-inc": "high",
    })
    resp = slack.send(slack.req.view_submission("U0BOB", view, values))
    assert resp.status == 200
    assert json_body(resp) == {}
    rows = {c.kr_id: c for c in slack.checkins()}
    assert len(rows) == 5
    with slack.session() as s:
        krs = {kr.key: kr for kr in s.scalars(select(KeyResult))}
        assert krs["kr-inc"].current_value == 30.0
        assert krs["kr-inc"].declared_status == "yellow"
        assert krs["kr-ms"].current_value == 1.0 and krs["kr-ms"].state == "done"
        assert krs["kr-man"].manual_score == 0.6
        inc = rows[krs["kr-inc"].id]
        assert inc.note == "Half way there" and inc.confidence == "high"
        assert rows[krs["kr-dec"].id].blockers == "Waiting on legal"
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "checkin",
                                                 AuditEntry.actor_label == "slack:U0BOB"))
    update = slack.fake.calls_to("chat.update")[-1]
    assert update.params["channel"] == channel and update.params["ts"] == ts
    assert "Checked in on 5 key results" in update.params["text"]
    home = slack.fake.home("U0BOB")
    assert home is not None and "Grow activation" in str(home["blocks"])


def test_double_submit_records_once(slack: Harness) -> None:
    slack.send(slack.req.command("U0CY", "checkin"))
    view = slack.fake.last_view()
    assert view is not None
    values = submitted_values(view, {"ci_value:kr-cy": "2"})
    first = slack.req.view_submission("U0CY", view, values)
    assert slack.send(first).status == 200
    again = slack.req.view_submission("U0CY", view, values)
    assert slack.send(again).status == 200
    assert len(slack.checkins("kr-cy")) == 1
