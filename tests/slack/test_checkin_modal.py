"""The check-in modal over the real Bolt app: the owner's word kept, the default fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import KeyResult
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values
from tests.slackreq import json_body


def _open(slack: Harness, user: str) -> dict[str, Any]:
    slack.send(slack.req.command(user, "checkin"))
    view = slack.fake.last_view()
    assert view is not None
    return view


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _submit(slack: Harness, user: str, view: dict[str, Any],
            overrides: dict[str, Any], extra: Any = None) -> dict[str, Any]:
    resp = slack.send(slack.req.view_submission(user, view, submitted_values(
        view, overrides, extra=extra)))
    return json_body(resp)


LABELS = {"green": "on track", "yellow": "at risk", "red": "off track"}


def test_saving_as_is_keeps_the_declared_status(slack: Harness) -> None:
    view = _open(slack, "U0CY")
    status = _block(view, "ci_status:kr-cy")
    suggested = status["element"]["initial_option"]["value"]  # never declared: the suggestion
    assert status["hint"]["text"].startswith(f"Pace suggests: {LABELS[suggested]} (preselected")
    mine = next(s for s in LABELS if s != suggested)
    assert _submit(slack, "U0CY", view, {"ci_value:kr-cy": "0", "ci_status:kr-cy": mine}) == {}
    view = _open(slack, "U0CY")
    status = _block(view, "ci_status:kr-cy")
    assert status["element"]["initial_option"]["value"] == mine
    assert status["hint"]["text"] == f"Pace suggests: {LABELS[suggested]}."
    assert "each status is the one you last set" in view["blocks"][0]["text"]["text"]
    assert _submit(slack, "U0CY", view, {}) == {}  # Save without touching anything
    assert [c.status for c in slack.checkins("kr-cy")] == [mine, mine]
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-cy")).one()
        assert kr.declared_status == mine


def test_default_modal_has_one_note_and_no_confidence_or_blockers(slack: Harness) -> None:
    view = _open(slack, "U0BOB")
    prefixes = [b.get("block_id", "").split(":")[0] for b in view["blocks"]]
    assert "ci_conf" not in prefixes and "ci_blockers" not in prefixes
    assert prefixes.count("ci_note") == 5
    assert _submit(slack, "U0BOB", view, {
        "ci_value:kr-inc": "20", "ci_value:kr-dec": "12", "ci_value:kr-man": "0.5",
        "ci_value:kr-pct": "30", "ci_note:kr-inc": "Two launches; legal is slow"}) == {}
    (inc,) = slack.checkins("kr-inc")
    assert inc.note == "Two launches; legal is slow" and inc.blockers is None


def test_forged_fields_are_still_validated_on_the_server(slack: Harness) -> None:
    """Confidence is not asked by default, but a forged one is checked as ever."""
    view = _open(slack, "U0CY")
    forged = {"ci_conf:kr-cy": {"ci_conf:kr-cy": {"type": "static_select",
                                                  "selected_option": {"value": "certain"}}}}
    body = _submit(slack, "U0CY", view, {"ci_value:kr-cy": "1"}, extra=forged)
    assert body["response_action"] == "errors"
    assert "low, medium or high" in body["errors"]["ci_status:kr-cy"]
    assert slack.checkins() == []
