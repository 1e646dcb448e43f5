"""The tick: work out what is due from the database and enqueue it, then deliver.

Enqueueing inserts one delivery row per (workspace, kind, target, occurrence) with
``ON CONFLICT DO NOTHING``: any number of processes may tick at the same moment, and a tick
repeated for the same ``now`` changes nothing. Rows are created when due, never ahead, so the
skip rules see the latest facts at send time.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.config import Settings
from app.services.tenancy import directory, retention, teams_sync
from scheduler.delivery import ClientFor, Deliverer
from scheduler.enqueue import due_digests, due_prompts, enqueue, enqueue_workspace
from scheduler.leases import WorkLeases, lease_seconds
from scheduler.pacing import Pacer

log = logging.getLogger(__name__)

__all__ = ["TickResult", "due_digests", "due_prompts", "enqueue", "enqueue_workspace", "tick"]


@dataclass
class TickResult:
    now: datetime
    enqueued: Counter[str]
    delivered: Counter[str]
    more: bool = False  # delivery stopped at its time budget with rows still due
    elsewhere: int = 0  # workspaces left to the other processes holding their leases

    def summary(self) -> str:
        def fmt(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "nothing"

        held = f"; {self.elsewhere} workspace(s) left to other scheduler processes" \
            if self.elsewhere else ""
        return f"enqueued: {fmt(self.enqueued)}; delivered: {fmt(self.delivered)}{held}"


def tick(factory: sessionmaker[Session], settings: Settings, now: datetime, *,
         client_for: ClientFor, pacer: Pacer | None = None, worker_id: str | None = None,
         budget_seconds: float | None = None, deliver: bool = True,
         threads: int = 4, leases: WorkLeases | None = None) -> TickResult:
    """One scheduler pass as if the time were ``now``: enqueue what is due, deliver it, for
    the workspaces whose work lease this process holds (scheduler/leases.py).

    ``leases`` are a replica loop's, kept across passes; without them the pass takes every
    free lease for itself and releases them at its end (``okr tick``). Idempotent: running it
    again for the same ``now`` sends nothing new. Delivery stops when nothing is due or after
    ``budget_seconds`` (default: most of a tick interval); what is left goes in the next pass.
    """
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    worker_id = worker_id or default_worker_id()
    own = leases is None
    work = leases or WorkLeases(factory, worker_id, shared=False,
                                ttl_seconds=lease_seconds(settings.tick_seconds))
    try:
        held = work.acquire()
        retention.purge_due(factory, now)  # uninstalled workspaces past OKR_RETENTION_DAYS
        deliverer = None
        if deliver and held:
            pacer = pacer or Pacer(settings.workspace_send_rate_per_second,
                                   settings.send_rate_per_second)
            for ws_id, seconds in work.holds.items():
                pacer.hold(ws_id, seconds)
            deliverer = Deliverer(factory, settings, client_for, pacer=pacer,
                                  worker_id=worker_id, clock=clock, threads=threads,
                                  leases=work)
        budget = budget_seconds if budget_seconds is not None else settings.tick_seconds * 0.8
        enqueued, delivered, more = enqueue_and_deliver(
            lambda: enqueue(factory, settings, now, only=held), deliverer, budget)
        synced = directory.sync_due(factory, now, client_for)  # users.list, once a day
        if synced:
            refresh_teams(factory, client_for, now, synced)
    finally:
        if own:
            work.close()
    result = TickResult(now=now, enqueued=enqueued, delivered=delivered, more=more,
                        elsewhere=work.total - len(held))
    metrics.TICK_SECONDS.observe(time.monotonic() - started)
    for key, count in enqueued.items():  # "kind:state", pending or missed at once
        kind, _, state = key.partition(":")
        metrics.delivery(kind, state, count)
    # One line when the tick did something; a quiet tick (the usual one) only at DEBUG.
    log.log(logging.INFO if enqueued or delivered else logging.DEBUG, "scheduler.tick",
            extra={"at": now.isoformat(), "enqueued": dict(enqueued),
                   "delivered": dict(delivered)})
    return result


def enqueue_and_deliver(enqueue_due: Callable[[], Counter[str]], deliverer: Deliverer | None,
                        budget: float) -> tuple[Counter[str], Counter[str], bool]:
    """Enqueue what fell due, and deliver for up to ``budget`` seconds.

    With sender threads (PostgreSQL), the rows already due (a fan-out the last pass did not
    finish) keep going out while this pass works out what else fell due, and the new rows
    join them as they are inserted: a long fan-out does not stop for every pass's enqueueing.
    One sender thread (SQLite, which serialises writers) enqueues first, then delivers."""
    if deliverer is None:
        return enqueue_due(), Counter(), False
    if deliverer.threads <= 1:
        enqueued = enqueue_due()
        return enqueued, deliverer.run(budget), deliverer.more
    deadline = time.monotonic() + budget
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="okr-deliver-due") as pool:
        early = pool.submit(deliverer.run, budget)
        enqueued = enqueue_due()
        early.result()
    left = deadline - time.monotonic()
    if left > 0:  # (the early run may have ended before the new rows were in)
        deliverer.run(left)
    return enqueued, deliverer.counts, deliverer.more


def refresh_teams(factory: sessionmaker[Session], client_for: ClientFor, now: datetime,
                  workspace_ids: Iterable[int]) -> None:
    """After a workspace's daily directory sync: its teams that follow a channel or a user
    group, in step with Slack (people who left without an event leave the team). One
    workspace failing does not stop the others."""
    for ws_id in workspace_ids:
        try:
            teams_sync.refresh_all(factory, client_for, now=now, workspace_ids=[ws_id])
        except (OSError, DBAPIError) as exc:
            log.warning("teams_sync.refresh_failed",
                        extra={"workspace_id": ws_id, "error": type(exc).__name__})


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
