"""The APScheduler loop: it ticks in the background, survives failing ticks, and stops."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.bootstrap import Container
from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.models import Delivery
from scheduler import runner
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import clients, make_settings, seed


@pytest.mark.slow
def test_background_loop_ticks_and_stops(tmp_path: Path, fake_slack: FakeSlack) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'runner.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    seed(factory)
    settings = make_settings(fake_slack)
    container = Container(settings=settings, engine=engine, session_factory=factory)
    running = runner.start(container, client_for=clients(settings), interval_seconds=1)
    # The loop reads the real clock: point it at Ada's Monday 10:00 for this test.
    running.loop.clock = lambda: datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
    deadline = time.monotonic() + 20
    while running.loop.ticks < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    running()
    ticks = running.loop.ticks
    assert ticks >= 2 and not running.scheduler.running
    time.sleep(1.2)
    assert running.loop.ticks == ticks  # stopped means stopped
    with unit_of_work(factory) as s:
        ada = s.scalars(select(Delivery).where(Delivery.target == "U0ADA")).one()
        assert ada.state == "sent"
    engine.dispose()


def test_a_failing_tick_is_logged_and_the_next_one_runs(tmp_path: Path,
                                                        fake_slack: FakeSlack) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'runner.db'}")
    upgrade(engine)
    settings = make_settings(fake_slack)
    container = Container(settings=settings, engine=engine,
                          session_factory=make_session_factory(engine))
    calls = iter([RuntimeError("the database went away"), None])

    def clock() -> datetime:
        failure = next(calls)
        if failure is not None:
            raise failure
        return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    loop = runner.Loop(container, clients(settings), clock=clock)
    assert loop() is None and loop.failures == 1
    assert loop() is not None and loop.ticks == 1
    engine.dispose()
