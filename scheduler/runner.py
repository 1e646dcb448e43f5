"""APScheduler wiring: one interval job calling ``tick`` in each process.

APScheduler keeps no state of its own here (memory job store): the database is the schedule,
and the delivery rows' unique keys and claims make any number of processes safe. A tick that
fails (the database restarted, a bug) is logged and the next one runs as usual, so the loop
never dies; what was due meanwhile is caught up within the grace window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.services.links import sync as issue_sync
from scheduler.clients import client_factory
from scheduler.delivery import ClientFor
from scheduler.jobs import TickResult, default_worker_id, tick
from scheduler.leases import WorkLeases, lease_seconds
from scheduler.pacing import Pacer

log = logging.getLogger(__name__)


class Container(Protocol):
    """What the loop needs of the process's wiring (``app.bootstrap.Container`` is one)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def utcnow() -> datetime:
    """The scheduler's clock: the loop reads the real time once per pass and passes it on."""
    return datetime.now(UTC)


JOB_ID = "okr-tick"
MAX_INTERVALS = 10  # how long one run may keep going while a fan-out is left


class Loop:
    """What the interval job calls: a tick that never raises."""

    def __init__(self, container: Container, client_for: ClientFor,
                 worker_id: str | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 interval_seconds: float | None = None) -> None:
        settings = container.settings
        self.container = container
        self.client_for = client_for
        self.worker_id = worker_id or default_worker_id()
        # One pacer per process, kept across ticks so a 429's pause outlives the tick.
        self.pacer = Pacer(settings.workspace_send_rate_per_second, settings.send_rate_per_second)
        # The workspaces this process works on, shared fairly with the other live processes.
        self.leases = WorkLeases(container.session_factory, self.worker_id, ttl_seconds=(
            lease_seconds(max(interval_seconds or 0, settings.tick_seconds))))
        self.clock = clock
        self.failures = 0
        self.ticks = 0

    def __call__(self) -> TickResult | None:
        """One tick; while a big fan-out is left (the tick ran out of time with rows due),
        the next pass starts at once rather than at the next interval, up to a few intervals
        (APScheduler skips the runs this one overlaps)."""
        started = time.monotonic()
        interval = self.container.settings.tick_seconds
        result = self._once(interval * 0.8)
        while result is not None and result.more and \
                time.monotonic() - started < interval * MAX_INTERVALS:
            # Longer passes while a fan-out lasts: fewer pauses to enqueue, which still runs
            # at the start of every pass.
            result = self._once(interval * 2)
        return result

    def _once(self, budget: float) -> TickResult | None:
        try:
            result = tick(self.container.session_factory, self.container.settings, self.clock(),
                          client_for=self.client_for, pacer=self.pacer,
                          worker_id=self.worker_id, budget_seconds=budget,
                          leases=self.leases)
        except Exception:
            self.failures += 1
            log.exception("scheduler.tick_failed", extra={"failures": self.failures})
            return None
        self.ticks += 1
        return result


class Running:
    """What ``start`` returns: call it to stop (waits for a tick in progress)."""

    def __init__(self, scheduler: BackgroundScheduler, loop: Loop) -> None:
        self.scheduler = scheduler
        self.loop = loop

    def __call__(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
            try:  # hand this process's workspaces over now rather than when the leases end
                self.loop.leases.close()
            except Exception:
                log.exception("scheduler.lease_release_failed")
            log.info("scheduler.stopped", extra={"ticks": self.loop.ticks,
                                                 "failures": self.loop.failures})


def start(container: Container, *, client_for: ClientFor | None = None,
          worker_id: str | None = None, interval_seconds: float | None = None,
          clock: Callable[[], datetime] = utcnow) -> Running:
    """Start ticking in a background thread now and every ``tick_seconds``; returns the
    stop function. ``clock`` is the ticks' notion of now (bench/soak.py runs it faster)."""
    settings = container.settings
    interval = interval_seconds or settings.tick_seconds
    loop = Loop(container, client_for or client_factory(settings, container.engine,
                                                        container.session_factory), worker_id,
                clock=clock, interval_seconds=interval)
    scheduler = BackgroundScheduler(
        timezone=UTC, jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": max(int(interval), 1)})
    scheduler.add_job(loop, "interval", seconds=interval, id=JOB_ID, next_run_time=utcnow())
    # Linked issues' daily reconciliation (once a day across processes), on its own thread:
    # waiting out a tracker's rate limit must never delay a tick.
    scheduler.add_executor(ThreadPoolExecutor(1), alias="issue-sync")
    scheduler.add_job(issue_sync.daily_job(container.session_factory, settings, utcnow),
                      "interval", hours=1, id="okr-issue-sync", executor="issue-sync",
                      next_run_time=utcnow() + timedelta(minutes=5))
    scheduler.start()
    log.info("scheduler.started", extra={"interval": interval, "worker": loop.worker_id})
    return Running(scheduler, loop)
