"""A tick's facts are freed as soon as the tick lets go of them: no reference cycle keeps
thousands of people's rows alive until the cyclic collector's next full pass (which, in a
worker, comes about once a minute and lets the heap grow meanwhile)."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Cycle, Workspace
from app.services.scheduling.tick_facts import TickFacts
from tests.fixtures.scheduler import seed
from tests.scheduler.test_ladder import LADDER

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_a_ticks_facts_go_with_their_last_reference(
        session_factory: sessionmaker[Session]) -> None:
    seed(session_factory, LADDER)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        with session_factory() as s:
            facts = TickFacts(s, list(s.scalars(select(Workspace))), NOW,
                              lambda _last: NOW - timedelta(hours=1))
            cycle = s.scalars(select(Cycle)).one()
            (wf,) = facts
            assert wf.plans() and wf.weeks() and wf.open_krs(cycle.id)
            assert wf.kr_owners(cycle.id) and wf.objective_owners(cycle.id) is not None
            assert wf.prompt_runs(NOW - timedelta(days=30), NOW) == {}
            refs = [weakref.ref(facts), weakref.ref(wf), weakref.ref(wf.batch)]
            del facts, wf
            assert [r() for r in refs] == [None, None, None]
            # One workspace's facts alone keep what they read through (reminders use them so).
            wf = TickFacts(s, list(s.scalars(select(Workspace))), NOW,
                           lambda _last: NOW - timedelta(hours=1))[cycle.workspace_id]
            assert wf.open_krs(cycle.id) and wf.prompt_runs(NOW - timedelta(days=1), NOW) == {}
    finally:
        if enabled:
            gc.enable()
