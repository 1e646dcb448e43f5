"""Builders the Slack tests reach only partly (digest threads, nudges, reminders, scoring
modals): user text in them is escaped in mrkdwn and fallback text, never in plain text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from app.domain import DigestNote, KRType
from blocks import digest, review
from blocks.prompt import PromptView
from blocks.reminder import nudge_message, reminder_message, template_variables
from tests.slack.test_injection import BAD, ESCAPED, PAYLOAD, UNIT, _walk
from tests.unit.blocks.test_limits import CYCLE, kr, objective


def assert_safe(*payloads: Any) -> None:
    mrkdwn: list[str] = []
    plain: list[str] = []
    _walk(list(payloads), mrkdwn, plain)
    leaks = [t for t in mrkdwn if any(b in t for b in BAD)]
    assert not leaks, leaks[:5]
    assert any(ESCAPED in t for t in mrkdwn)
    assert not [t for t in plain if "&lt;" in t or "&amp;" in t]


def poisoned_kr(i: int, **kw: object) -> Any:
    return kr(i, title=PAYLOAD, unit=UNIT, owner_name=PAYLOAD, last_note=PAYLOAD,
              last_blockers=PAYLOAD, mismatch=PAYLOAD, **kw)


def test_digest_summary_and_thread() -> None:
    o = replace(objective(1, 0), title=PAYLOAD, team_name=PAYLOAD, owner_name=PAYLOAD,
                key_results=(poisoned_kr(1), poisoned_kr(2, kr_type=KRType.ABOVE),
                             poisoned_kr(3, last_checkin_at=None)))
    cycle = replace(CYCLE, name=PAYLOAD)
    notes = [DigestNote("kr-1", PAYLOAD, "U1", PAYLOAD, PAYLOAD)]
    messages = digest.build(digest.DigestInput(team_name=PAYLOAD, cycle=cycle, objectives=[o],
                                               notes=notes))
    assert_safe(*messages)


def test_nudge_and_reminder() -> None:
    view = PromptView(delivery_id=1, first_name=PAYLOAD, cycle_name=PAYLOAD, day=3,
                      total_days=90, krs=[poisoned_kr(1), poisoned_kr(2)])
    text = "Hello {{ cycle }}".replace("{{ cycle }}", str(template_variables(
        {"cycle": PAYLOAD})["cycle"]))
    assert_safe(nudge_message(view, updated=1),
                reminder_message(text, when=PAYLOAD, cycle=PAYLOAD))


def test_scoring_modals_and_review_dm() -> None:
    row = review.ScoreRow(kr_key="kr-1", kr_title=PAYLOAD, objective_title=PAYLOAD,
                          owner_name=PAYLOAD, progress="1 → *2* → 3", computed=0.5,
                          self_score=0.5, evidence=PAYLOAD, final=0.4, reason=PAYLOAD)
    assert_safe(review.self_score_modal([row], cycle_name=PAYLOAD, deadline=date(2026, 5, 1)),
                review.lead_review_modal([row], cycle_name=PAYLOAD),
                review.review_dm(first_name=PAYLOAD, cycle_name=PAYLOAD,
                                 deadline=date(2026, 5, 1), self_count=1, final_count=1))
