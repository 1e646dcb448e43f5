"""Nudges, snoozes and "skip this week"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.domain import CheckinAnswer, CheckinSource
from app.models import KeyResult, Person, Workspace
from app.services.checkins import record as checkins
from app.services.errors import NotAllowed
from app.services.scheduling import snoozes
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, make_settings, posts
from tests.scheduler.test_delivery import ADA_DUE, ada
from tests.scheduler.test_tick import rows


def act(factory: sessionmaker[Session], slack_id: str, fn: str, delivery_id: int, now: str,
        **kw: str) -> object:
    with unit_of_work(factory) as s:
        ws = s.scalars(select(Workspace)).one()
        person = s.scalars(select(Person).where(Person.slack_id == slack_id)).one()
        return getattr(snoozes, fn)(session=s, ws=ws, person=person, delivery_id=delivery_id,
                                    now=datetime.fromisoformat(now), **kw)


def checkin(factory: sessionmaker[Session], kr_key: str, at: str, *, value: float = 150,
            note: str | None = None) -> None:
    with unit_of_work(factory) as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == kr_key)).one()
        checkins.record(session=s, workspace_id=kr.workspace_id, kr=kr,
                        data=CheckinAnswer(kr_key=kr_key, value=value, note=note),
                        author_id=kr.owner_id, actor_label="test", source=CheckinSource.CLI,
                        now=datetime.fromisoformat(at))


def test_one_nudge_after_the_delay_if_still_not_checked_in(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    clock.tick("2026-03-03T08:59:00+00:00")  # 24 h minus a minute
    assert rows(session_factory, kind="nudge", target="U0ADA") == []
    clock.tick("2026-03-03T09:01:00+00:00")
    clock.tick("2026-03-03T12:00:00+00:00")
    (nudge,) = rows(session_factory, kind="nudge", target="U0ADA")
    assert (nudge.state, nudge.occurrence) == ("sent", "2026-03-02#nudge1")
    texts = [p["text"] for p in posts(fake_slack, "U0ADA")]
    assert len(texts) == 2 and "gentle reminder" in texts[1]


def test_no_nudge_after_a_checkin(clock: Clock, fake_slack: FakeSlack,
                                  session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    checkin(session_factory, "kr-rev", "2026-03-02T11:00:00+00:00")
    clock.tick("2026-03-03T09:30:00+00:00")
    assert [(r.state, r.error) for r in rows(session_factory, kind="nudge")
            if r.target == "U0ADA"] in ([], [("skipped", "checked in since the prompt")])
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_a_newer_prompt_takes_over_from_the_older_ones_ladder(
        session_factory: sessionmaker[Session], org: int, fake_slack: FakeSlack) -> None:
    with unit_of_work(session_factory) as s:
        ws = s.scalars(select(Workspace)).one()
        ws.checkin_schedule = {"cadence": "weekly", "day": ["mon", "tue", "wed"],
                               "time": "10:00"}
    clock = Clock(session_factory, make_settings(fake_slack))
    for day in (2, 3, 4, 5, 6, 9):
        clock.tick(f"2026-03-0{day}T09:05:00+00:00")
    # Monday's and Tuesday's nudges would come with the next prompt: only Wednesday's
    # prompt is nudged, on Thursday; its second nudge (Monday) comes with Monday's prompt.
    nudges = rows(session_factory, kind="nudge", target="U0ADA")
    assert [(n.occurrence, (n.payload or {})["base"], n.state) for n in nudges] == [
        ("2026-03-02#nudge1", "2026-03-04", "sent")]
    assert len(posts(fake_slack, "U0ADA")) == 3 + 1 + 1


def test_snooze_two_hours_sends_once_more_and_double_click_is_one(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    row = ada(session_factory)
    at = act(session_factory, "U0ADA", "snooze", row.id, "2026-03-02T09:10:00+00:00",
             until="2h")
    again = act(session_factory, "U0ADA", "snooze", row.id, "2026-03-02T09:10:01+00:00",
                until="2h")
    assert at == again == datetime(2026, 3, 2, 11, 10, tzinfo=UTC)
    clock.tick("2026-03-02T11:09:00+00:00")
    assert len(posts(fake_slack, "U0ADA")) == 1
    clock.tick("2026-03-02T11:10:30+00:00")
    assert len(posts(fake_slack, "U0ADA")) == 2
    occurrences = [r.occurrence for r in rows(session_factory, kind="prompt", target="U0ADA")]
    assert occurrences == ["2026-03-02", "2026-03-02#snooze1"]


def test_snooze_until_tomorrow_is_the_same_local_time(
        clock: Clock, session_factory: sessionmaker[Session]) -> None:
    clock.tick("2026-03-02T16:00:00+00:00")  # Bob: 10:00 in New York is 15:00 UTC
    (row,) = rows(session_factory, kind="prompt", target="U0BOB")
    at = act(session_factory, "U0BOB", "snooze", row.id, "2026-03-02T16:00:00+00:00",
             until="tomorrow")
    assert at == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def test_skip_this_week_stops_snoozes_and_nudges(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    row = ada(session_factory)
    act(session_factory, "U0ADA", "snooze", row.id, "2026-03-02T09:10:00+00:00", until="2h")
    week = act(session_factory, "U0ADA", "skip_week", row.id, "2026-03-02T09:11:00+00:00")
    assert str(week) == "2026-03-02"
    clock.tick("2026-03-02T12:00:00+00:00")
    clock.tick("2026-03-03T12:00:00+00:00")
    assert len(posts(fake_slack, "U0ADA")) == 1
    states = {r.occurrence: (r.state, r.error) for r in rows(session_factory, kind="prompt",
                                                              target="U0ADA")}
    assert states["2026-03-02#snooze1"] == ("skipped", "skipped this week")
    clock.tick("2026-03-09T09:05:00+00:00")  # next week asks again
    assert len(posts(fake_slack, "U0ADA")) == 2


def test_only_the_recipient_may_snooze(clock: Clock,
                                       session_factory: sessionmaker[Session]) -> None:
    clock.tick(ADA_DUE)
    with pytest.raises(NotAllowed):
        act(session_factory, "U0BOB", "snooze", ada(session_factory).id,
            "2026-03-02T09:10:00+00:00", until="2h")
