"""A whole cycle closed in Slack against the fake Slack: the admin opens scoring, the scheduler
DMs owners (once a day), owners self-score, the lead agrees final scores, people reflect, the
admin closes the cycle, the retrospective goes to the team channel and the report is uploaded
with files_upload_v2. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CheckinAnswer, CheckinSource
from app.models import Cycle, Delivery, KeyResult, Reflection, Review
from app.reports import html
from app.services.checkins import record as checkins
from app.services.okrs import adjustments
from app.services.review import report as reports
from app.services.scheduling import digest_facts
from blocks.ids import Action
from scheduler.jobs import TickResult, tick
from scheduler.pacing import Pacer
from tests.fixtures.slack import Harness, fake_slack, rollback_factory, slack
from tests.services.review.factory import build_org
from tests.slack.state import submitted_values
from tests.slackreq import json_body

__all__ = ["fake_slack", "rollback_factory", "slack"]


def run_tick(h: Harness, at: datetime) -> TickResult:
    return tick(h.session_factory, h.env.settings, at, client_for=lambda _ws: h.app.client,
                pacer=Pacer(1000.0, 1000.0), worker_id="test", threads=1, budget_seconds=30)


def dms(h: Harness, user: str) -> list[dict[str, Any]]:
    return [c.params for c in h.fake.calls_to("chat.postMessage")
            if c.params.get("channel") == user and c.response.get("ok")]


def record(h: Harness, key: str, value: float) -> None:
    with h.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == key)).one()
        checkins.record(session=s, workspace_id=kr.workspace_id, kr=kr,
                        data=CheckinAnswer(kr_key=key, value=value), author_id=None,
                        actor_label="test", source=CheckinSource.CLI, now=h.now - timedelta(days=1))
        s.commit()


def open_from_dm(h: Harness, user: str, action: Action) -> dict[str, Any]:
    msg = dms(h, user)[-1]
    buttons = [e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]]
    button = next(b for b in buttons if b["action_id"] == str(action))
    h.send(h.req.button(user, action, button["value"], channel=user))
    view = h.fake.last_view()
    assert view is not None
    return view


def test_full_cycle_in_slack(slack: Harness) -> None:
    h = slack
    record(h, "kr-inc", 30)  # 0.5
    record(h, "kr-cy", 3)  # 1.0

    # Only admins open scoring.
    _resp, body = h.command("U0BOB", "cycle review")
    assert "for OKR admins" in body["text"]
    _resp, body = h.command("U0DEE", "cycle review")
    assert "*FY27-Q1* is in review" in body["text"] and "owe scores" in body["text"]

    # The scheduler DMs everyone who owes scores, once that day.
    first = run_tick(h, h.now)
    assert first.delivered["sent:review_reminder"] >= 3
    assert "self-score *5* key results" in dms(h, "U0BOB")[0]["blocks"][0]["text"]["text"]
    assert "agree" in dms(h, "U0ADA")[0]["blocks"][0]["text"]["text"]
    run_tick(h, h.now + timedelta(minutes=5))
    assert len(dms(h, "U0BOB")) == 1

    # Bob self-scores from the DM; a forged off-step score is refused inline.
    view = open_from_dm(h, "U0BOB", Action.OPEN_SELF_SCORE)
    assert view["callback_id"] == "okr_self_score"
    resp = h.send(h.req.view_submission("U0BOB", view, submitted_values(
        view, {"rv_self:kr-inc": "0.75"})))
    assert json_body(resp)["response_action"] == "errors"
    assert "rv_self:kr-inc" in json_body(resp)["errors"]
    scores = {"rv_self:kr-inc": "0.6", "rv_evidence:kr-inc": "30 active users",
              "rv_self:kr-ms": "1.0", "rv_self:kr-dec": "0.2", "rv_self:kr-man": "0.5",
              "rv_self:kr-pct": "0.3"}
    resp = h.send(h.req.view_submission("U0BOB", view, submitted_values(view, scores)))
    assert json_body(resp) == {}
    assert "Saved your self scores" in dms(h, "U0BOB")[-1]["text"]
    view = open_from_dm(h, "U0CY", Action.OPEN_SELF_SCORE)
    h.send(h.req.view_submission("U0CY", view, submitted_values(view, {"rv_self:kr-cy": "1.0"})))

    # The next day only those still owing scores are reminded.
    run_tick(h, h.now + timedelta(days=1))
    assert len(dms(h, "U0BOB")) == 2 and len(dms(h, "U0CY")) == 2  # request + confirmation
    assert dms(h, "U0ADA")[-1]["text"].startswith("Reminder:")

    # Ada, the lead, agrees final scores: a changed score needs a reason.
    h.command("U0ADA", "review")
    lead = h.fake.last_view()
    assert lead is not None and lead["callback_id"] == "okr_lead_review"
    assert "self (Bob) *60%*" in str(lead["blocks"])
    finals = {"rv_final:kr-inc": "0.5"}
    resp = h.send(h.req.view_submission("U0ADA", lead, submitted_values(lead, finals)))
    assert json_body(resp)["errors"].keys() == {"rv_reason:kr-inc"}
    finals["rv_reason:kr-inc"] = "activation counted trial users twice"
    resp = h.send(h.req.view_submission("U0ADA", lead, submitted_values(lead, finals)))
    assert json_body(resp) == {}

    # Reflections from the slash command.
    h.command("U0BOB", "reflect eng-onboarding")
    reflect = h.fake.last_view()
    assert reflect is not None and reflect["callback_id"] == "okr_reflect"
    h.send(h.req.view_submission("U0BOB", reflect, submitted_values(reflect, {
        "rf_worked": "pairing on the funnel", "rf_carry": "instrument activation"})))

    # Closing the cycle posts the retrospective to the team's channel, once.
    _resp, body = h.command("U0DEE", "cycle close")
    assert "is closed" in body["text"]
    run_tick(h, h.now + timedelta(days=1, hours=1))
    run_tick(h, h.now + timedelta(days=1, hours=2))
    posts = dms(h, "C0ENG")
    assert len(posts) == 1
    text = str(posts[0]["blocks"])
    assert "Retrospective: FY27-Q1 · Engineering" in text
    assert "self 60% → final 50%" in text and "instrument activation" in text
    assert "A private plan" not in text

    # The report goes up as a file; private objectives stay out.
    h.command("U0DEE", "report", channel_id="C0ENG")
    complete = h.fake.calls_to("files.completeUploadExternal")[-1]
    assert complete.params["channel_id"] == "C0ENG"
    (upload,) = h.fake.calls_to("upload")
    with h.session() as s:
        cycle = s.scalars(select(Cycle)).one()
        assert cycle.phase == "closed"
        public = reports.build(session=s, workspace_id=cycle.workspace_id, cycle=cycle,
                               today=h.now.date(), now=h.now, settings=h.env.settings.scoring)
        page = html.render(public)
        assert upload.params["length"] == len(page.encode())
        assert "A private plan" not in page
        kinds = sorted({r.kind for r in s.scalars(select(Review))})
        assert kinds == ["computed", "final", "self"]
        assert s.scalars(select(Reflection.carry_forward)).all() == ["instrument activation"]
        sent = s.scalars(select(Delivery).where(Delivery.kind == "review_reminder",
                                                Delivery.target == "U0BOB")).all()
        assert [d.occurrence for d in sent] == ["2026-03-02"]
    assert "Posted `okr-report-FY27-Q1.html`" in h.fake.responses()[-1]["text"]
    h.fake.assert_no_violations()


def test_digest_notes_mention_mid_cycle_changes(session: Session) -> None:
    org = build_org(session)
    bugs, secret = org.krs["bugs"], org.krs["secret-kr"]
    at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    adjustments.adjust_kr(session=session, workspace_id=org.id, kr=bugs, person=org.people["cy"],
                          reason="half were duplicates", target=8, now=at)
    adjustments.adjust_kr(session=session, workspace_id=org.id, kr=secret,
                          person=org.people["cy"], reason="private", weight=3, now=at)
    notes = digest_facts.adjustment_notes(session, org.id, org.teams["eng"].id,
                                          org.cycles["FY27-Q1"], at - timedelta(days=7))
    assert [(n.kr_key, n.author_slack_id, n.note) for n in notes] == [
        ("bugs", "U0CY", "target changed from 10 to 8: half were duplicates")]
    assert digest_facts.adjustment_notes(session, org.id, org.teams["eng"].id,
                                         org.cycles["FY27-Q1"], at) == []
