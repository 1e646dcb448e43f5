"""Channel digests: the pure builder and the scheduled post."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.config import ScoringSettings
from app.domain import (
    Commitment,
    CyclePhase,
    CycleView,
    DigestNote,
    KRType,
    KRView,
    ObjectiveView,
    TrafficLight,
    Visibility,
)
from blocks import digest
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, make_settings, posts
from tests.scheduler.test_followups import checkin
from tests.scheduler.test_tick import rows
from tests.slack.blockkit import validate_message

WORST = ScoringSettings(OKR_OBJECTIVE_STATUS="worst")

CYCLE = CycleView(name="FY27-Q1", start=date(2026, 2, 1), end=date(2026, 4, 30),
                  phase=CyclePhase.ACTIVE, day=40, total_days=89, expected=0.45)


def kr(key: str, score: float, status: TrafficLight = TrafficLight.GREEN, *,
       suggested: TrafficLight | None = None, declared: TrafficLight | None = None,
       stale: bool = False, mismatch: str | None = None) -> KRView:
    return KRView(key=key, title=f"Key result {key}", kr_type=KRType.INCREASE,
                  objective_key="o", owner_slack_id="U0ADA", owner_name="Ada", start=0,
                  target=10, current=score * 10, unit=None, weight=1, score=score,
                  progress=score, status=status, suggested_status=suggested or status,
                  declared_status=declared, previous_score=None, stale=stale,
                  mismatch=mismatch)


def obj(key: str, score: float, krs: tuple[KRView, ...],
        status: TrafficLight = TrafficLight.GREEN) -> ObjectiveView:
    return ObjectiveView(key=key, title=f"Objective {key}", cycle="FY27-Q1", team_key="eng",
                         team_name="Engineering", owner_slack_id="U0BOB", owner_name="Bob",
                         score=score, status=status, visibility=Visibility.PUBLIC,
                         commitment=Commitment.COMMITTED, key_results=krs)


def test_small_digest_is_one_message_with_changes() -> None:
    objectives = [obj("o1", 0.5, (kr("a", 0.5), kr("b", 0.2, TrafficLight.RED)),
                      TrafficLight.RED)]
    previous = {"objectives": {"o1": {"score": 0.4, "status": "yellow"}}, "krs": {}}
    (msg,) = digest.build(digest.DigestInput(
        team_name="Engineering", cycle=CYCLE, objectives=objectives, previous=previous,
        previous_date=date(2026, 3, 6), notes=[DigestNote("a", "Key result a", "U0CAT",
                                                          "shipped the beta", None)]))
    text = json.dumps(msg["blocks"], ensure_ascii=False)
    assert "Day 40 of 89" in text and "+10 pts" in text and "was yellow" in text
    assert "At risk or behind pace" in text and "shipped the beta" in text
    assert validate_message(msg) == []


def test_large_digest_splits_into_a_thread_within_limits() -> None:
    objectives = [obj(f"o{i}", 0.3, tuple(
        kr(f"k{i}-{j}", 0.1, TrafficLight.RED, stale=True, declared=TrafficLight.GREEN,
           mismatch="declared green but pace suggests red") for j in range(5)))
        for i in range(30)]
    notes = [DigestNote(f"k{i}", "Key result", "U0ADA", "x" * 500, "blocked " * 40)
             for i in range(30)]
    messages = digest.build(digest.DigestInput(team_name="Engineering", cycle=CYCLE,
                                               objectives=objectives, notes=notes))
    assert len(messages) >= 2
    summary = json.dumps(messages[0]["blocks"], ensure_ascii=False)
    assert "and 15 more objectives" in summary and "Details in the thread" in summary
    thread = json.dumps([m["blocks"] for m in messages[1:]], ensure_ascii=False)
    assert "and 120 more key results" in thread
    for msg in messages:
        assert len(msg["blocks"]) <= 50
        assert validate_message(msg) == []
        assert len(json.dumps(msg["blocks"], ensure_ascii=False)) < 12_000


def test_nothing_changed_is_one_line_or_nothing() -> None:
    objectives = [obj("o1", 0.5, (kr("a", 0.5),))]
    data = digest.DigestInput(team_name="Eng", cycle=CYCLE, objectives=objectives,
                              previous=digest.snapshot(objectives),
                              previous_date=date(2026, 3, 6))
    (note,) = digest.build(data, quiet="note")
    assert note["text"] == ":zzz: No change in Eng's OKRs since Fri 6 Mar 2026."
    assert digest.build(data, quiet="silent") == []


def test_weekly_digest_on_friday_afternoon_in_the_org_zone(
        fake_slack: FakeSlack, session_factory: sessionmaker[Session], org: int) -> None:
    # The worst-of-KRs rule: under the weighted rule the onboarding objective's light moves
    # from yellow to red by pace alone between the first two Fridays (a real change).
    clock = Clock(session_factory, make_settings(fake_slack, scoring=WORST))
    clock.tick("2026-03-06T14:59:00+00:00")
    assert posts(fake_slack, "C0ENG") == []
    clock.tick("2026-03-06T15:00:30+00:00")  # 16:00 in Berlin
    (first,) = posts(fake_slack, "C0ENG")
    assert "Engineering · FY27-Q1 digest" in json.dumps(first["blocks"], ensure_ascii=False)
    assert len(posts(fake_slack, "C0ALL")) == 1
    # A week without change: the one-line note.
    clock.tick("2026-03-13T15:00:30+00:00")
    assert posts(fake_slack, "C0ENG")[-1]["text"].startswith(":zzz: No change")
    # A check-in with a note: the next digest shows the move.
    checkin(session_factory, "kr-ttv", "2026-03-16T10:00:00+00:00", value=9,
            note="halfway there")
    clock.tick("2026-03-20T15:00:30+00:00")
    latest = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Deliver an exceptional onboarding* · 14% · :arrow_up_small: +14 pts" in latest
    assert "5 days · <@U0BOB>\\n> halfway there" in latest
    digests = rows(session_factory, kind="digest", target="C0ENG")
    assert [(d.occurrence, d.state) for d in digests] == [
        ("2026-03-06", "sent"), ("2026-03-13", "sent"), ("2026-03-20", "sent")]


def test_silent_quiet_mode_records_a_skip(session_factory: sessionmaker[Session],
                                          fake_slack: FakeSlack, org: int) -> None:
    clock = Clock(session_factory, make_settings(fake_slack, OKR_QUIET_DIGEST="silent",
                                                 scoring=WORST))
    clock.tick("2026-03-06T15:00:30+00:00")
    clock.tick("2026-03-13T15:00:30+00:00")
    assert len(posts(fake_slack, "C0ENG")) == 1
    second = rows(session_factory, kind="digest", target="C0ENG")[1]
    assert (second.state, second.error) == ("skipped", "nothing changed since the last digest")


def test_long_digest_goes_to_a_thread_exactly_once_even_when_a_part_fails(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest, "INLINE_BLOCKS", 0)  # force the detail into a thread
    monkeypatch.setattr(digest, "MAX_BLOCKS", 1)  # one block per reply: several replies
    clock.tick("2026-03-06T14:00:00+00:00")  # everything else of the week out of the way
    # Checked in without progress: at risk (a KR never checked in is pending, not at risk).
    checkin(session_factory, "kr-ttv", "2026-03-02T10:00:00+00:00", value=14)
    checkin(session_factory, "kr-nps", "2026-03-02T10:00:00+00:00", value=32)
    fake_slack.reset_calls()
    fake_slack.on("chat.postMessage", _fail_second_part(fake_slack))
    clock.tick("2026-03-06T15:00:30+00:00")
    (row,) = [r for r in rows(session_factory, kind="digest") if r.target == "C0ENG"]
    assert row.state == "sending" and row.payload and row.payload["done"] == 1
    fake_slack.handlers.pop("chat.postMessage")
    clock.tick("2026-03-06T15:05:00+00:00")  # reconciled in the thread: not there, sent
    (row,) = [r for r in rows(session_factory, kind="digest") if r.target == "C0ENG"]
    parts = (row.payload or {})["parts"]
    assert row.state == "sent" and len(parts) >= 3 and row.payload["done"] == len(parts)
    eng = [c.params for c in fake_slack.calls_to("chat.postMessage")
           if c.params["channel"] == "C0ENG" and c.response.get("ok")]
    assert len(eng) == len(parts)  # each part once
    assert eng[0].get("thread_ts") is None
    assert {p["thread_ts"] for p in eng[1:]} == {row.ts}


def _fail_second_part(fake: FakeSlack) -> object:
    from tests.slack import fakemethods

    def handler(params: dict[str, object]) -> dict[str, object]:
        meta = params.get("metadata") or {}
        part = (meta.get("event_payload") or {}).get("part") if isinstance(meta, dict) else 0
        if params.get("channel") == "C0ENG" and part == 1:
            return {"ok": False, "error": "internal_error"}
        return fakemethods.post_message(fake, params)
    return handler
