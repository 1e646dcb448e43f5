"""Work leases: each workspace's due computation and its sending, by one process at a time.

Every scheduler process (``okr serve``, ``okr worker``) ticks. Without more, each would compute
every workspace's due items on every tick and pace its sends as if it were alone, so two
replicas would send at twice a workspace's rate and collect 429s. A lease per workspace
(``scheduler_leases``) gives one process that work at a time:

- a pass starts by renewing the leases the process holds and taking free ones (a lease whose
  ``lease_until`` has passed), with a conditional ``UPDATE`` (``FOR UPDATE SKIP LOCKED`` first
  on PostgreSQL, so claimers never wait on each other); it lasts a tick interval plus
  ``MARGIN``, and is renewed during a long pass too;
- a fair share: live processes leave a heartbeat (``scheduler_workers``); with L of them and W
  workspaces, a process keeps at most ceil(W / L) leases and releases the rest, so N processes
  split the workspaces about evenly and, since the shares add up to at least W, none is
  starved; a killed process's leases expire a tick interval (plus the margin) after its last
  renewal and the next pass of another process takes them;
- a holder stops sending for a workspace ``STOP_BEFORE`` seconds before its lease ends, and a
  process taking a lease released less than ``HANDOVER`` seconds ago waits out the rest of it
  before its first send there: the old and the new holder's sends never share a second, so
  the workspace's rate is one budget whichever process holds it.

Leases are an efficiency and rate mechanism. Exactly-once delivery does not rest on them: it
is the deliveries' unique key and their row claims, so a lost or stolen lease can cost a pause,
never a duplicate or a loss.

Lease times are real (wall-clock) UTC instants, not the tick's ``now``: ``okr tick --at`` in
the past or a simulated clock must not hold a lease for months or lose it at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Workspace
from app.models.scheduling import SchedulerWorker, WorkLease
from app.services.scheduling.schedules import insert_ignore

log = logging.getLogger(__name__)

MARGIN = 15.0  # seconds a lease outlives one tick interval
STOP_BEFORE = 5.0  # a holder sends nothing in the last seconds of its lease
HANDOVER = 1.0  # after a release, the next holder's first send waits this long
FORGET_AFTER = 10  # heartbeats silent for this many lease lengths are deleted


def utcnow() -> datetime:
    return datetime.now(UTC)


def lease_seconds(tick_seconds: float) -> float:
    """How long a lease lasts: one tick interval plus the margin."""
    return tick_seconds + MARGIN


class WorkLeases:
    """The workspaces one process works on, renewed pass after pass.

    ``shared`` (a replica's loop): leaves a heartbeat and keeps its fair share. Not shared (a
    one-shot ``okr tick``): takes every free lease, leaves no heartbeat, and ``close()``
    releases everything at the end of the pass.
    """

    def __init__(self, factory: sessionmaker[Session], worker_id: str, *, ttl_seconds: float,
                 shared: bool = True, clock: Callable[[], datetime] = utcnow) -> None:
        self.factory = factory
        self.me = worker_id
        self.ttl = timedelta(seconds=ttl_seconds)
        self.shared = shared
        self.clock = clock
        self.renew_every = min(ttl_seconds / 4, 10.0)
        self.holds: dict[int, float] = {}  # workspace -> seconds to wait (handover)
        self.total = 0  # enabled workspaces at the last acquire
        self._until: dict[int, datetime] = {}
        self._renewed = 0.0
        self._lock = threading.Lock()
        self._renewing = threading.Lock()

    # --- what a pass asks --------------------------------------------------------------------

    def acquire(self) -> frozenset[int]:
        """At a pass's start: renew, release beyond the fair share, take free leases."""
        now = self.clock()
        # Two transactions: what there is (workspaces, live processes, leases), then this
        # process's claims and what it holds after them.
        with unit_of_work(self.factory) as s:
            ids = set(s.scalars(select(Workspace.id).where(Workspace.disabled_at.is_(None))))
            self._ensure_rows(s)
            live = self._beat(s, now) if self.shared else 1
            before = {r.workspace_id: (r.lease_owner, r.lease_until) for r in s.execute(
                select(WorkLease.workspace_id, WorkLease.lease_owner, WorkLease.lease_until))}
        quota = math.ceil(len(ids) / live) if ids else 0
        # Ours, the ones still running first (a released one is only taken back if the
        # share allows), so a workspace in the middle of a fan-out stays where it is.
        mine = sorted((w for w, (owner, _) in before.items() if owner == self.me and w in ids),
                      key=lambda w: (not (before[w][1] or now) > now, w))
        keep, extra = mine[:quota], mine[quota:]
        want = quota - len(keep)
        with unit_of_work(self.factory) as s:
            if keep:
                self._take(s, now, [WorkLease.lease_owner == self.me,
                                    WorkLease.workspace_id.in_(keep)], None)
            if extra:
                s.execute(update(WorkLease).where(WorkLease.lease_owner == self.me,
                                                  WorkLease.workspace_id.in_(extra))
                          .values(lease_until=now))
            if want > 0:
                self._take(s, now, [or_(WorkLease.lease_until.is_(None),
                                        WorkLease.lease_until < now),
                                    WorkLease.workspace_id.in_(ids)], want)
            held = self._read_in(s, now)
        self.holds = {w: secs for w in held if (secs := self._handover(before.get(w), now)) > 0}
        self.total = len(ids)
        self._renewed = time.monotonic()
        if extra:
            log.info("scheduler.leases_released", extra={"worker": self.me, "released": extra})
        return held

    def register(self) -> None:
        """Only leave a heartbeat, before a first pass (counts this process as live)."""
        with unit_of_work(self.factory) as s:
            self._beat(s, self.clock())

    def ids(self) -> frozenset[int]:
        """The workspaces held now with time left to send (renewed first when due), for the
        delivery claims."""
        self._maybe_renew()
        last = self.clock() + timedelta(seconds=STOP_BEFORE)
        with self._lock:
            return frozenset(w for w, until in self._until.items() if until > last)

    def send_deadline(self, ws_id: int, deadline: float) -> float:
        """The monotonic instant by which a send for ``ws_id`` must have gone: ``deadline`` or,
        sooner, ``STOP_BEFORE`` seconds before the lease ends (now or earlier: not held)."""
        self._maybe_renew()
        with self._lock:
            until = self._until.get(ws_id)
        if until is None:
            return time.monotonic()
        left = (until - self.clock()).total_seconds() - STOP_BEFORE
        return min(deadline, time.monotonic() + left)

    def close(self) -> None:
        """Release everything held (and the heartbeat): a stopping process hands over at once."""
        now = self.clock()
        with unit_of_work(self.factory) as s:
            s.execute(update(WorkLease).where(WorkLease.lease_owner == self.me)
                      .values(lease_until=now))
            if self.shared:
                s.execute(delete(SchedulerWorker).where(SchedulerWorker.worker_id == self.me))
        with self._lock:
            self._until.clear()

    # --- the database ------------------------------------------------------------------------

    def _ensure_rows(self, s: Session) -> None:
        """A lease row for every workspace that has none yet (new workspaces)."""
        missing = select(Workspace.id).where(
            Workspace.id.not_in(select(WorkLease.workspace_id)))
        if s.scalars(missing.limit(1)).first() is not None:
            s.execute(insert_ignore(s, WorkLease).from_select(["workspace_id"], missing))

    def _beat(self, s: Session, now: datetime) -> int:
        """Record this process as live; how many are live (this one included)."""
        s.execute(insert_ignore(s, SchedulerWorker).values(worker_id=self.me, seen_at=now))
        s.execute(update(SchedulerWorker).where(SchedulerWorker.worker_id == self.me)
                  .values(seen_at=now))
        s.execute(delete(SchedulerWorker).where(
            SchedulerWorker.seen_at < now - self.ttl * FORGET_AFTER))
        live = s.scalar(select(func.count()).select_from(SchedulerWorker).where(
            SchedulerWorker.seen_at > now - self.ttl))
        return max(int(live or 0), 1)

    def _take(self, s: Session, now: datetime, where: list[Any], limit: int | None) -> None:
        """Set this process as the holder of the rows matching ``where`` (at most ``limit``),
        until ``now + ttl``. PostgreSQL locks them first, skipping rows another claimer has
        locked; the ``UPDATE`` repeats the condition (a compare-and-set, enough on SQLite,
        which serialises writers)."""
        query = select(WorkLease.workspace_id).where(*where).order_by(WorkLease.workspace_id)
        if limit is not None:
            query = query.limit(limit)
        if s.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        chosen = list(s.scalars(query))
        if chosen:
            s.execute(update(WorkLease).where(WorkLease.workspace_id.in_(chosen), *where)
                      .values(lease_owner=self.me, lease_until=now + self.ttl))

    def _read(self, now: datetime) -> frozenset[int]:
        with unit_of_work(self.factory) as s:
            return self._read_in(s, now)

    def _read_in(self, s: Session, now: datetime) -> frozenset[int]:
        rows = s.execute(select(WorkLease.workspace_id, WorkLease.lease_until).where(
            WorkLease.lease_owner == self.me, WorkLease.lease_until > now)).all()
        with self._lock:
            self._until = {w: u for w, u in rows if u is not None}
            return frozenset(self._until)

    def _handover(self, previous: tuple[str | None, datetime | None] | None,
                  now: datetime) -> float:
        """Seconds to wait before the first send when the lease came from another process
        that held it less than ``HANDOVER`` seconds ago."""
        if previous is None or previous[0] in (None, self.me) or previous[1] is None:
            return 0.0
        return max((previous[1] - now).total_seconds() + HANDOVER, 0.0)

    def _maybe_renew(self) -> None:
        if time.monotonic() - self._renewed < self.renew_every or \
                not self._renewing.acquire(blocking=False):
            return
        try:
            now = self.clock()
            with self._lock:
                held = sorted(self._until)
            with unit_of_work(self.factory) as s:
                if self.shared:
                    s.execute(update(SchedulerWorker).where(
                        SchedulerWorker.worker_id == self.me).values(seen_at=now))
                self._take(s, now, [WorkLease.lease_owner == self.me,
                                    WorkLease.workspace_id.in_(held)], None)
            lost = set(held) - self._read(now)
            if lost:
                log.warning("scheduler.lease_lost", extra={"worker": self.me,
                                                           "workspaces": sorted(lost)})
            self._renewed = time.monotonic()
        except Exception:
            # The database is in trouble: keep what we know (it only ever runs out).
            log.exception("scheduler.lease_renewal_failed", extra={"worker": self.me})
        finally:
            self._renewing.release()
