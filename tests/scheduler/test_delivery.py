"""Delivery policies: grace window, Slack errors, ambiguous sends, skip reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Delivery, Person, Workspace
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts
from tests.scheduler.test_tick import rows

ADA_DUE = "2026-03-02T09:00:00+00:00"  # Monday 10:00 in Berlin
BEFORE = "2026-03-02T08:00:00+00:00"  # Kathmandu's 10:00 was 04:15 UTC: out of the way


def ada(factory: sessionmaker[Session]) -> Delivery:
    (row,) = rows(factory, kind="prompt", target="U0ADA")
    return row


def set_person(factory: sessionmaker[Session], slack_id: str, **values: object) -> None:
    with unit_of_work(factory) as s:
        person = s.scalars(select(Person).where(Person.slack_id == slack_id)).one()
        for key, value in values.items():
            setattr(person, key, value)


def test_late_within_grace_is_sent_beyond_is_missed(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    # Nothing ran on Monday until 14:00 UTC: Ada's 09:00 prompt is 5 h late, inside 6 h.
    clock.tick("2026-03-02T14:00:00+00:00", deliver=False)
    clock.tick("2026-03-02T14:00:00+00:00")
    assert ada(session_factory).state == "sent"
    # The next Monday nothing runs until 16:00: 7 h late is past the grace window, yet the
    # tick of the previous hour saw it was due; it is recorded missed, not silently dropped.
    clock.tick("2026-03-09T08:00:00+00:00")
    clock.tick("2026-03-09T16:00:00+00:00")
    missed = [r for r in rows(session_factory, kind="prompt", target="U0ADA")
              if r.occurrence == "2026-03-09"]
    assert [(r.state, r.error is not None) for r in missed] == [("missed", True)]
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_enqueued_but_undelivered_past_grace_becomes_missed(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE, deliver=False)
    clock.tick("2026-03-02T15:30:00+00:00")
    row = ada(session_factory)
    assert (row.state, row.error) == ("missed", "not sent: past the grace window")
    assert posts(fake_slack, "U0ADA") == []


@pytest.mark.slow
def test_429_waits_for_retry_after_then_sends_once(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(BEFORE)
    fake_slack.rate_limit_next("chat.postMessage", count=1, retry_after=2)
    first = clock.tick(ADA_DUE)
    assert first.delivered["ratelimited"] == 1
    row = ada(session_factory)
    assert row.state == "pending" and row.next_attempt_at is not None
    clock.tick("2026-03-02T09:00:01+00:00")  # before Retry-After: not retried
    assert posts(fake_slack, "U0ADA") == []
    clock.tick("2026-03-02T09:00:05+00:00")  # (the pacer also holds the channel 2 s)
    assert ada(session_factory).state == "sent"
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_permanent_error_fails_and_deactivates(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(BEFORE)
    fake_slack.fail_next("chat.postMessage", "user_not_found")
    clock.tick(ADA_DUE)
    row = ada(session_factory)
    assert (row.state, row.error) == ("failed", "user_not_found")
    with unit_of_work(session_factory) as s:
        person = s.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
        assert not person.active
    # Never retried, and a deactivated person is not prompted again.
    clock.tick("2026-03-02T10:00:00+00:00")
    clock.tick("2026-03-09T09:30:00+00:00")
    assert [r.occurrence for r in rows(session_factory, kind="prompt", target="U0ADA")] == [
        "2026-03-02"]
    assert len([c for c in fake_slack.calls if c.params.get("channel") == "U0ADA"]) == 1


def test_server_error_is_reconciled_and_sent_once(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(BEFORE)
    fake_slack.server_error_next("chat.postMessage", status=503)
    clock.tick(ADA_DUE)
    row = ada(session_factory)
    assert row.state == "sending" and row.error  # may or may not have been posted
    clock.tick("2026-03-02T09:05:00+00:00")  # reconciled: not there, so sent now
    assert ada(session_factory).state == "sent"
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_answer_lost_after_slack_posted_is_found_not_resent(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(BEFORE)
    # Slack posts, then the answer never arrives (it looks like a 500 to us).
    fake_slack.on("chat.postMessage", _post_then_fail(fake_slack))
    clock.tick(ADA_DUE)
    assert ada(session_factory).state == "sending"
    fake_slack.handlers.pop("chat.postMessage")
    clock.tick("2026-03-02T09:05:00+00:00")
    row = ada(session_factory)
    assert row.state == "sent" and row.ts == "stored-ts"
    assert posts(fake_slack, "U0ADA") == []  # no second post


def _post_then_fail(fake: FakeSlack) -> object:
    def handler(params: dict[str, object]) -> dict[str, object]:
        fake.messages[("D0ADA", "stored-ts")] = {
            "channel": "D0ADA", "ts": "stored-ts", "text": params.get("text"),
            "metadata": params.get("metadata"), "thread_ts": None}
        return {"ok": False, "error": "internal_error"}
    return handler


def test_cannot_reconcile_becomes_unknown_never_resent(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(BEFORE)
    fake_slack.fail_next("chat.postMessage", "fatal_error")
    fake_slack.fail_next("conversations.history", "missing_scope", count=10)
    clock.tick(ADA_DUE)
    for minute in (5, 10, 20, 40):
        clock.tick(f"2026-03-02T09:{minute:02d}:00+00:00")
    row = ada(session_factory)
    assert row.state == "unknown" and "at most once" in (row.error or "")
    tries = [c for c in fake_slack.calls if c.method == "chat.postMessage"
             and c.params.get("channel") == "U0ADA"]
    assert len(tries) == 1


def test_skip_reasons_are_recorded(clock: Clock, fake_slack: FakeSlack,
                                   session_factory: sessionmaker[Session]) -> None:
    set_person(session_factory, "U0ADA", away_until=date(2026, 3, 6))
    with unit_of_work(session_factory) as s:
        ws = s.scalars(select(Workspace)).one()
        ws.holiday_dates = ["2026-03-16"]
    clock.tick(ADA_DUE)
    clock.tick("2026-03-09T09:00:00+00:00")
    clock.tick("2026-03-16T09:00:00+00:00")
    # The organisation's day off: nothing on Monday.
    assert len(prompts_to(fake_slack, "U0ADA")) == 1
    clock.tick("2026-03-17T09:00:00+00:00")
    got = [(r.occurrence, r.state, r.error) for r in rows(session_factory, kind="prompt",
                                                          target="U0ADA")]
    assert got == [("2026-03-02", "skipped", "away"), ("2026-03-09", "sent", None),
                   ("2026-03-16", "sent", None)]
    moved = rows(session_factory, kind="prompt", target="U0ADA")[-1]
    assert moved.due_at == datetime(2026, 3, 17, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin
    assert moved.payload["moved_from"] == "2026-03-16"
    assert moved.payload["reason"] == "organisation day off"
    assert len(prompts_to(fake_slack, "U0ADA")) == 2


def prompts_to(fake: FakeSlack, user: str) -> list[dict[str, object]]:
    return [p for p in posts(fake, user) if "time for your check-in" in str(p.get("text"))]


def test_away_from_a_later_date(clock: Clock, fake_slack: FakeSlack,
                                session_factory: sessionmaker[Session]) -> None:
    # Away from Tuesday 3 March: Monday's prompt still comes, the next one does not.
    set_person(session_factory, "U0ADA", away_until=date(2026, 3, 13),
               away_from=date(2026, 3, 3))
    clock.tick(ADA_DUE)
    clock.tick("2026-03-09T09:00:00+00:00")
    clock.tick("2026-03-16T09:00:00+00:00")
    got = [(r.occurrence, r.state, r.error) for r in rows(session_factory, kind="prompt",
                                                          target="U0ADA")]
    assert got == [("2026-03-02", "sent", None), ("2026-03-09", "skipped", "away"),
                   ("2026-03-16", "sent", None)]


def test_no_token_leaves_rows_pending_without_spinning(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    import time as _time

    from scheduler.jobs import tick

    started = _time.monotonic()
    result = tick(session_factory, clock.settings, datetime.fromisoformat(ADA_DUE),
                  client_for=lambda _ws: None, pacer=clock.pacer, worker_id="test",
                  threads=1, budget_seconds=20)
    assert _time.monotonic() - started < 5  # it did not claim the same rows over and over
    assert result.delivered["no_token"] >= 1
    assert ada(session_factory).state == "pending"
    clock.tick("2026-03-02T09:02:00+00:00")  # a token again (after the retry delay)
    assert ada(session_factory).state == "sent"
