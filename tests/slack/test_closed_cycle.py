"""A closed cycle in Slack: ``/okr checkin`` opens no modal, a modal opened before the close
refuses on submit, ``/okr edit`` and ``/okr link`` refuse, all with the reason and storing
nothing; an admin's ``/okr cycle reopen`` lets them through again (real Bolt app, fake Slack,
both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AuditEntry, Checkin, Cycle, IssueLink, KeyResult
from tests.fixtures.slack import Harness, fake_slack, rollback_factory, slack
from tests.slack.state import submitted_values
from tests.slackreq import json_body

__all__ = ["fake_slack", "rollback_factory", "slack"]

URL = "https://gitlab.com/acme/web/-/issues/12"


def _reply(h: Harness, user: str, text: str) -> str:
    """The one answer: in the ack, or (for work done after the ack) via response_url."""
    request = h.req.command(user, text)
    acked = json_body(h.send(request))
    replies = [acked] if acked else h.fake.responses(request.response_key)
    assert len(replies) == 1, replies
    return str(replies[0]["text"])


def _phase(h: Harness, phase: str) -> None:
    with h.session() as s:
        s.get_one(Cycle, h.org.cycle.id).phase = phase
        s.commit()


def _counts(h: Harness) -> tuple[int, int, int]:
    with h.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                     for m in (Checkin, IssueLink, AuditEntry))


def _issues_kr(h: Harness) -> None:
    with h.session() as s:
        s.add(KeyResult(workspace_id=h.org.workspace.id, key="kr-bugs", title="Bugs",
                        objective_id=h.org.objectives["eng-onboarding"].id, kr_type="issues",
                        owner_id=h.org.people["U0CY"].id, position=10, created_at=h.now,
                        updated_at=h.now))
        s.commit()


def test_closed_cycle_refuses_checkin_edit_and_link(slack: Harness) -> None:
    h = slack
    _issues_kr(h)
    # A modal opened while the cycle ran, submitted after it closed.
    h.send(h.req.command("U0CY", "checkin"))
    stale = h.fake.last_view()
    assert stale is not None
    _phase(h, "closed")
    before, opened = _counts(h), len(h.fake.calls_to("views.open"))

    text = _reply(h, "U0CY", "checkin")
    assert "FY27-Q1 is closed" in text and "okr cycle reopen FY27-Q1" in text
    assert len(h.fake.calls_to("views.open")) == opened  # no modal for a closed cycle

    resp = h.send(h.req.view_submission("U0CY", stale,
                                        submitted_values(stale, {"ci_value:kr-cy": "2"})))
    errors = json_body(resp)["errors"]
    assert any("FY27-Q1 is closed" in message for message in errors.values()), errors

    assert "FY27-Q1 is closed" in _reply(h, "U0BOB", "edit kr-inc")
    assert "FY27-Q1 is closed" in _reply(h, "U0ADA", "edit eng-onboarding")
    assert "FY27-Q1 is closed" in _reply(h, "U0CY", f"link {URL} kr-bugs")
    assert len(h.fake.calls_to("views.open")) == opened
    assert _counts(h) == before
    assert h.checkins("kr-cy") == []


def test_a_modal_opened_before_the_close_cannot_save_an_edit(slack: Harness) -> None:
    h = slack
    h.send(h.req.command("U0BOB", "edit kr-inc"))
    view = h.fake.last_view()
    assert view is not None
    _phase(h, "closed")
    resp = h.send(h.req.view_submission("U0BOB", view, submitted_values(view, {})))
    body = json_body(resp)
    assert "FY27-Q1 is closed" in str(body), body
    with h.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "key_result.edit")) == 0


def test_admin_reopens_in_slack_and_checkins_work_again(slack: Harness) -> None:
    h = slack
    _phase(h, "closed")
    assert "for OKR admins" in _reply(h, "U0BOB", "cycle reopen FY27-Q1")
    assert "name the cycle" in _reply(h, "U0DEE", "cycle reopen")
    text = _reply(h, "U0DEE", "cycle reopen FY27-Q1")
    assert "*FY27-Q1* is reopened and back in active" in text
    assert "is not closed" in _reply(h, "U0DEE", "cycle reopen FY27-Q1")
    with h.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.reopen")).one()
        assert entry.actor_label == "slack:U0DEE" and entry.after == {"phase": "active"}
    h.send(h.req.command("U0CY", "checkin"))
    view = h.fake.last_view()
    assert view is not None and view["callback_id"] == "okr_checkin"
    resp = h.send(h.req.view_submission("U0CY", view,
                                        submitted_values(view, {"ci_value:kr-cy": "2"})))
    assert "errors" not in json_body(resp)
    assert len(h.checkins("kr-cy")) == 1
