"""Deliver due rows exactly once: claim, render, mark, send, record.

1. **Claim** a batch with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL) and set a lease
   (``claimed_by``/``claimed_until``); concurrent processes claim disjoint rows. SQLite has no
   row locks: there each row is claimed by a compare-and-set ``UPDATE`` (correct across
   processes, since SQLite serialises writers, but meant for one process).
2. **Render** at send time (``scheduler.render``): skip with a reason, or messages to post.
3. **Mark** the row ``sending`` with a token before calling Slack; the token travels in the
   message metadata.
4. **Send** through ``scheduler.sender`` and **record** ``sent`` with Slack's ``ts``.

A row left ``sending`` (the process died, or the answer was lost) is reconciled before anything
else happens to it: the conversation is searched for the token. Found: recorded as sent. Not
there: sent again (still within the grace window) or recorded missed. Cannot tell: recorded
``unknown`` and never resent. Prompts are at-most-once; see docs/scheduling.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from slack_sdk import WebClient
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.config import Settings
from app.db import unit_of_work
from app.models import Delivery, DigestSnapshot, Person, Workspace
from app.services.tenancy import people as people_service
from scheduler import sender
from scheduler.leases import WorkLeases
from scheduler.pacing import Pacer
from scheduler.render import Renderer

log = logging.getLogger(__name__)

ClientFor = Callable[[int], WebClient | None]  # workspace id -> client (None: no token)


class Claimed(NamedTuple):
    id: int
    workspace_id: int
    target: str
    state: str


MAX_CHECKS = 3  # reconciliation attempts that could not tell before a row becomes "unknown"
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 10 minutes."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 600))


class Deliverer:
    """One delivery pass. ``clock()`` is the pass's notion of now (simulated in ``okr tick
    --at``, advancing with real time)."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, client_for: ClientFor,
                 *, pacer: Pacer, worker_id: str, clock: Callable[[], datetime],
                 threads: int = 4, leases: WorkLeases | None = None) -> None:
        self.factory = factory
        self.settings = settings
        self.client_for = client_for
        self.pacer = pacer
        self.leases = leases  # None: every workspace (no work leases)
        self.me = worker_id
        self.clock = clock
        # SQLite serialises writers: one sender thread there (the documented fallback).
        self.threads = 1 if factory.kw.get("bind") is not None and \
            factory.kw["bind"].dialect.name == "sqlite" else threads
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.grace = timedelta(hours=settings.grace_hours)
        self.renderer = Renderer(settings, clock())
        self.dead: set[int] = set()  # workspaces whose token Slack refused in this pass
        self.counts: Counter[str] = Counter()
        self.more = False  # the pass ended at its deadline with work left

    # --- claiming ----------------------------------------------------------------------------

    def claim(self, limit: int = BATCH) -> list[Claimed]:
        now = self.clock()
        due = (Delivery.state.in_(("pending", "sending")), Delivery.due_at <= now,
               or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
               or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
               Delivery.workspace_id.not_in(  # nothing is sent to a disabled workspace
                   select(Workspace.id).where(Workspace.disabled_at.is_not(None))),
               *([] if self.leases is None else  # only the workspaces this process holds
                 [Delivery.workspace_id.in_(sorted(self.leases.ids()))]))
        cols = (Delivery.id, Delivery.workspace_id, Delivery.target, Delivery.state)
        with unit_of_work(self.factory) as s:
            query = select(*cols).where(*due).order_by(Delivery.due_at, Delivery.id)
            if s.get_bind().dialect.name == "postgresql":
                rows = [Claimed(*r) for r in s.execute(
                    query.limit(limit).with_for_update(skip_locked=True))]
                if rows:
                    s.execute(update(Delivery).where(Delivery.id.in_([r.id for r in rows]))
                              .values(claimed_by=self.me, claimed_until=now + self.lease))
                return rows
            rows = []
            for r in s.execute(query.limit(limit)).all():
                won = s.execute(update(Delivery).where(Delivery.id == r.id, *due).values(
                    claimed_by=self.me, claimed_until=now + self.lease))
                if won.rowcount == 1:  # type: ignore[attr-defined]
                    rows.append(Claimed(*r))
            return rows

    def release(self, row_id: int, *, retry_in: timedelta | None = None) -> None:
        """Give a claimed row back; with ``retry_in`` nobody retries it before then (so this
        pass does not claim it again at once)."""
        values: dict[str, Any] = {"claimed_until": None}
        if retry_in is not None:
            values["next_attempt_at"] = self.clock() + retry_in
        with unit_of_work(self.factory) as s:
            s.execute(update(Delivery).where(Delivery.id == row_id,
                                             Delivery.claimed_by == self.me).values(**values))

    # --- one row -----------------------------------------------------------------------------

    def process(self, claimed: Claimed, deadline: float) -> None:
        try:
            self._process(claimed, deadline)
        except Exception:
            # One row's trouble must not stop the batch; the lease expires and it is retried
            # (through reconciliation if it got as far as "sending").
            log.exception("delivery.row_failed", extra={"delivery_id": claimed.id})
            self.counts["error"] += 1

    def _process(self, claimed: Claimed, deadline: float) -> None:
        row_id, ws_id, target = claimed.id, claimed.workspace_id, claimed.target
        client = None if ws_id in self.dead else self.client_for(ws_id)
        if client is None:
            self.counts["no_token" if ws_id not in self.dead else "held"] += 1
            self.release(row_id, retry_in=timedelta(seconds=self.settings.tick_seconds))
            return
        if claimed.state == "sending":
            with self.factory() as s:
                row = s.get(Delivery, row_id)
                if row is None:
                    return
                channel, token, payload = row.channel, row.token, dict(row.payload or {})
                late = self.clock() > row.due_at + self.grace
            if not self._reconcile(row_id, client, target, channel, token or "", payload, late):
                return
        self._send_parts(row_id, client, ws_id, target, deadline)

    def _locked(self, s: Session, row_id: int, state: str) -> Delivery | None:
        """The row, locked for this transaction, if we still hold its lease in ``state``."""
        row = s.get(Delivery, row_id, with_for_update=True, populate_existing=True)
        if row is None or row.claimed_by != self.me or row.state != state:
            return None
        if row.claimed_until is None or row.claimed_until <= self.clock():
            return None  # the lease ran out: whoever claims it next carries on
        return row

    def _mark(self, s: Session, row: Delivery) -> tuple[dict[str, Any], str | None] | None:
        """Render if needed (or record why not), then mark the row ``sending``.

        Returns the part to post and the thread to post it in, or None when nothing goes.
        """
        now = self.clock()
        payload = dict(row.payload or {})
        if now > row.due_at + self.grace and not payload.get("done"):
            self._finish(s, row, "missed", "not sent: past the grace window")
            return None
        if "parts" not in payload:
            rendered = self.renderer.render(s, row)
            if rendered.skip or rendered.fail:
                self._finish(s, row, "skipped" if rendered.skip else "failed",
                             rendered.skip or rendered.fail)
                return None
            payload.update(parts=rendered.messages, done=0)
            if rendered.snapshot is not None:
                s.add(DigestSnapshot(workspace_id=row.workspace_id, delivery_id=row.id,
                                     team_id=row.team_id, cycle_id=row.cycle_id, taken_at=now,
                                     data=rendered.snapshot))
        done = int(payload.get("done", 0))
        row.state, row.attempts = "sending", row.attempts + 1
        row.token = row.token or uuid.uuid4().hex
        row.payload = payload
        row.claimed_until = now + self.lease
        return payload["parts"][done], payload.get("thread_ts") if done else None

    def _reconcile(self, row_id: int, client: WebClient, target: str, channel: str | None,
                   token: str, payload: dict[str, Any], late: bool) -> bool:
        """A previous attempt may have posted. True when the row may be (re)sent now."""
        done = int(payload.get("done", 0))
        thread = payload.get("thread_ts") if done > 0 else None
        found = sender.find_posted(client, target=target, channel=channel, token=token,
                                   part=done, thread_ts=thread)
        with unit_of_work(self.factory) as s:
            row = self._locked(s, row_id, "sending")
            if row is None:
                return False
            if found.kind == "ok":
                self.counts["reconciled"] += 1
                self._part_sent(s, row, found.ts or "", found.channel)
                return row.state == "pending"
            if found.kind == "permanent":  # the conversation answered: not there
                if late and not done:  # (a thread already begun is finished, late or not)
                    self._finish(s, row, "missed", "not sent: past the grace window")
                    return False
                row.state = "pending"
                return True
            checks = int((row.payload or {}).get("checks", 0)) + 1
            row.payload = {**(row.payload or {}), "checks": checks}
            if checks >= MAX_CHECKS:
                self._finish(s, row, "unknown",
                             f"may have been sent; not resent (at most once): {found.error}")
            else:
                row.next_attempt_at = self.clock() + backoff(checks)
                row.claimed_until = row.next_attempt_at
            return False

    def _send_parts(self, row_id: int, client: WebClient, ws_id: int, target: str,
                    deadline: float) -> None:
        while True:
            with unit_of_work(self.factory) as s:
                row = self._locked(s, row_id, "pending")
                marked = self._mark(s, row) if row is not None else None
                if row is None or marked is None:
                    return
                token, done = str(row.token), int((row.payload or {}).get("done", 0))
            # Paced right before the call, so the pace Slack sees is the pace we keep.
            started = self._pace(ws_id, target, deadline)
            if started is None:
                self.more = True
                self._unmark(row_id)
                return
            part, thread = marked
            try:
                outcome = sender.post(client, channel=target, text=part["text"],
                                      blocks=part["blocks"],
                                      meta=sender.metadata(row_id, token, done), thread_ts=thread)
            finally:
                self.pacer.answered(ws_id, target, started)
            if not self._record(row_id, ws_id, target, outcome):
                return

    def _pace(self, ws_id: int, target: str, deadline: float) -> float | None:
        """Wait for the pace: the pacer's instant for the send, or None when the pass's
        deadline, or the end of this process's lease on the workspace, comes first."""
        if self.leases is not None:
            deadline = self.leases.send_deadline(ws_id, deadline)
            if deadline <= time.monotonic():
                return None
        return self.pacer.acquire(ws_id, target, deadline=deadline)

    def _unmark(self, row_id: int) -> None:
        """Nothing was posted after all (the pass ran out of time waiting for the pace)."""
        with unit_of_work(self.factory) as s:
            row = self._locked(s, row_id, "sending")
            if row is not None:
                row.state, row.attempts = "pending", max(row.attempts - 1, 0)
                row.claimed_until = None

    def _record(self, row_id: int, ws_id: int, target: str, outcome: sender.Outcome) -> bool:
        """Apply a send's outcome; True when another part of this row should go now."""
        with unit_of_work(self.factory) as s:
            row = self._locked(s, row_id, "sending")
            if row is None:
                return False
            if outcome.kind == "ok":
                self._part_sent(s, row, outcome.ts or "", outcome.channel)
                return row.state == "pending"
            self.counts[outcome.kind] += 1
            now = self.clock()
            if outcome.kind == "ratelimited":
                self.pacer.rate_limited(ws_id, target, outcome.retry_after)
                row.state = "pending"  # a 429 was certainly not posted
                row.attempts = max(row.attempts - 1, 0)
                row.next_attempt_at = now + timedelta(seconds=outcome.retry_after)
                row.claimed_until = None
            elif outcome.kind == "permanent":
                self._finish(s, row, "failed", outcome.error)
                self._permanent(s, row, outcome.error or "")
            else:  # ambiguous: it stays "sending" and is reconciled after the back-off
                row.error = outcome.error
                row.next_attempt_at = now + backoff(row.attempts)
                row.claimed_until = row.next_attempt_at
            return False

    def _part_sent(self, s: Session, row: Delivery, ts: str, channel: str | None) -> None:
        payload = dict(row.payload or {})
        done = int(payload.get("done", 0)) + 1
        payload["done"] = done
        payload.pop("checks", None)
        if done == 1:
            row.ts, row.channel = ts, channel
            payload["thread_ts"] = ts
        row.payload = payload
        if done >= len(payload.get("parts") or []):
            self._finish(s, row, "sent", None)
            self.counts[f"sent:{row.kind}"] += 1
        else:
            row.state = "pending"

    def _finish(self, s: Session, row: Delivery, state: str, error: str | None) -> None:
        row.state = state
        row.error = error
        row.claimed_until = None
        row.next_attempt_at = None
        if state == "sent":
            row.sent_at = self.clock()
        else:
            self.counts[state] += 1
        metrics.delivery(row.kind, state)
        if state in ("failed", "missed") and row.kind == "digest":
            # Nobody saw it: the next digest compares against the one before.
            s.execute(delete(DigestSnapshot).where(DigestSnapshot.delivery_id == row.id))
        log.info("delivery.%s", state, extra={"delivery_id": row.id, "kind": row.kind,
                                               "reason": error})

    def _permanent(self, s: Session, row: Delivery, error: str) -> None:
        if error in sender.WORKSPACE_DEAD:
            self.dead.add(row.workspace_id)
            log.error("delivery.token_refused", extra={"workspace_id": row.workspace_id,
                                                       "error": error})
        if error in sender.DEACTIVATES and row.person_id is not None:
            person = s.get(Person, row.person_id)
            if person is not None:
                people_service.deactivate(session=s, person=person, now=self.clock(),
                                          reason=f"Slack: {error}")

    # --- the pass ----------------------------------------------------------------------------

    def run(self, budget_seconds: float) -> Counter[str]:
        """Deliver until nothing is due or the time budget is spent."""
        deadline = time.monotonic() + budget_seconds
        batch = self.claim(BATCH)
        if not batch:
            return self.counts
        if self.threads <= 1:
            while batch:
                for claimed in batch:
                    self.process(claimed, deadline)
                batch = self._next(deadline)
            return self.counts
        # A pipeline, not batch by batch: the next batch is claimed while the last rows of
        # the previous one are still in flight, so the sender threads never wait on a barrier.
        with ThreadPoolExecutor(max_workers=self.threads,
                                thread_name_prefix="okr-deliver") as pool:
            running: set[Future[None]] = set()
            while batch or running:
                running |= {pool.submit(self.process, c, deadline) for c in batch}
                batch = []
                _, running = wait(running, return_when=FIRST_COMPLETED)
                if len(running) <= self.threads:
                    batch = self._next(deadline)
        return self.counts

    def _next(self, deadline: float) -> list[Claimed]:
        if time.monotonic() < deadline:
            return self.claim(BATCH)
        self.more = True
        return []
