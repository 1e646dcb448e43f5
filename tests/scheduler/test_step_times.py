"""The step times the ladder keeps between ticks: the prompts of its window, not every prompt
since the process started; a working week kept once however many people share it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.calendar import ladder as timing
from app.calendar.workweek import WorkWeek
from scheduler import ladder
from scheduler.ladder import LEAD_DELAY, StepTimes
from tests.fakeslack import FakeSlack
from tests.scheduler.test_ladder import BERLIN_PROMPT, NY_PROMPT, Clock, _setup, run

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _prompts(days: int) -> list[datetime]:
    return [MONDAY + timedelta(days=d, minutes=m) for d in range(days) for m in (0, 30)]


def test_kept_steps_are_the_computed_ones() -> None:
    steps = StepTimes()
    week = WorkWeek(calendar="DE")
    for at in _prompts(10):
        got = steps.get(at, ("nudges", BERLIN.key, (1, 3)), week, ladder._nudge_steps, at,
                        BERLIN, week, (1, 3))
        assert got == tuple(timing.nudge_steps(at, BERLIN, week, (1, 3)))
        assert steps.get(at, ("nudges", BERLIN.key, (1, 3)), week, lambda: None) == got
    assert len(steps) == 20


def test_days_before_the_window_are_let_go() -> None:
    steps = StepTimes()
    for at in _prompts(40):
        steps.get(at, ("at", BERLIN.key, 7), WorkWeek(), lambda at=at: at)
    assert len(steps) == 80
    # The day before the window's start stays too (a prompt is kept by its own day).
    steps.forget_before(MONDAY + timedelta(days=31, hours=5))
    assert len(steps) == 20
    assert steps.get(MONDAY + timedelta(days=30), ("at", BERLIN.key, 7), WorkWeek(),
                     lambda: None) == MONDAY + timedelta(days=30)
    assert steps.get(MONDAY + timedelta(days=29), ("at", BERLIN.key, 7), WorkWeek(),
                     lambda: None) is None  # worked out again


def test_past_the_limit_the_oldest_days_go_first() -> None:
    steps = StepTimes(limit=10)
    for at in _prompts(8):
        steps.get(at, ("at", BERLIN.key, 7), WorkWeek(), lambda at=at: at)
    assert len(steps) == 10
    newest = _prompts(8)[-10:]
    assert all(steps.get(at, ("at", BERLIN.key, 7), WorkWeek(), lambda: None) == at
               for at in newest)


def test_equal_working_weeks_share_their_entries_and_one_copy() -> None:
    steps = StepTimes()
    weeks = [WorkWeek(days=frozenset({0, 1, 2, 3, 4}), calendar="DE") for _ in range(50)]
    for week in weeks:
        steps.get(MONDAY, ("at", BERLIN.key, 1), week, lambda: MONDAY)
    assert len(steps) == 1 and len(steps._weeks) == 1
    steps.get(MONDAY, ("at", BERLIN.key, 1), WorkWeek(calendar="US"), lambda: MONDAY)
    assert len(steps) == 2


@pytest.fixture()
def clock(session_factory: sessionmaker[Session], fake_slack: FakeSlack) -> Clock:
    return _setup(session_factory, fake_slack)  # the ladder's people, prompted on Fridays


def test_the_tick_keeps_only_the_prompts_of_its_window(clock: Clock) -> None:
    ladder.STEPS.clear()
    run(clock, BERLIN_PROMPT, NY_PROMPT, "2026-03-09T09:00:30+00:00")
    assert len(ladder.STEPS) > 0  # Friday's prompts, kept
    # Weeks later, nothing prompted since: the window starts at the tick before.
    later = datetime(2026, 4, 20, 9, 0, 30, tzinfo=UTC)
    run(clock, later.isoformat(), (later + timedelta(minutes=1)).isoformat())
    assert min(ladder.STEPS._days, default=later.date()) >= \
        (later - timing.MAX_SPAN - LEAD_DELAY - timedelta(days=2)).date()
    assert len(ladder.STEPS) == 0
