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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app import metrics
from app.calendar import cadence, placement
from app.calendar.workweek import WorkWeek
from app.config import Settings
from app.db import unit_of_work
from app.domain import CyclePhase, Due
from app.models import Cycle, Objective, SchedulerState, Team, Workspace
from app.services.scheduling import schedules, workweeks
from app.services.scheduling.schedules import PersonPlan, insert_ignore
from app.services.tenancy import directory, retention, teams_sync
from scheduler import review_jobs
from scheduler.delivery import ClientFor, Deliverer
from scheduler.due import insert, window_start
from scheduler.ladder import due_ladder
from scheduler.leases import WorkLeases, lease_seconds
from scheduler.pacing import Pacer
from scheduler.reminders import due_reminders

log = logging.getLogger(__name__)


def due_prompts(plans: Iterable[PersonPlan], cycles: Sequence[Cycle],
                owners: Callable[[int], set[int]], start: datetime,
                now: datetime, weeks: Mapping[int, WorkWeek] | None = None) -> list[Due]:
    """Check-in prompts due in ``(start, now]`` for people owning KRs in a running cycle.

    Each occurrence is placed in its person's working week (``weeks``; default Monday to
    Friday): off non-working days, into working hours. What cannot be sent (two landing on one
    instant, no working day in reach) is due as skipped, with its reason. The remaining rules
    (away, skipped week, recent check-in, all KRs paused or done) are decided at send time.
    """
    anchor = schedules.anchor_for(cycles)
    out: list[Due] = []
    zones: dict[str, Any] = {}
    default = WorkWeek()
    for plan in plans:
        tz = zones.get(plan.tz)
        if tz is None:
            tz = zones[plan.tz] = schedules.zone(plan.tz)
        week = weeks.get(plan.person_id, default) if weeks is not None else default
        for placed in placement.placed_occurrences(plan.schedule, tz, week, start, now,
                                                   anchor=anchor):
            day = placed.occurrence.local_date
            cycle = schedules.cycle_on(cycles, day)
            if cycle is None or schedules.phase_on(cycle, day) != CyclePhase.ACTIVE:
                continue
            if plan.person_id not in owners(cycle.id):
                continue
            payload: dict[str, Any] = placed.payload(tz)
            if placed.skip:
                payload["skip"] = placed.skip
            out.append(Due("prompt", plan.slack_id, placed.key, placed.at,
                           person_id=plan.person_id, cycle_id=cycle.id, tz=plan.tz,
                           payload=payload))
    return out


def due_digests(session: Session, ws: Workspace, cycles: Sequence[Cycle], start: datetime,
                now: datetime) -> list[Due]:
    """Channel digests of teams with a channel and OKRs in the running cycle (org zone)."""
    tz = schedules.zone(ws.timezone)
    teams = session.scalars(select(Team).where(Team.workspace_id == ws.id,
                                               Team.channel_id.isnot(None))).all()
    out: list[Due] = []
    with_okrs: dict[int, set[int]] = {}
    for team in teams:
        schedule = schedules.digest_schedule(team, ws)
        for occ in cadence.occurrences(schedule, tz, start, now,
                                       anchor=schedules.anchor_for(cycles)):
            cycle = schedules.cycle_on(cycles, occ.local_date)
            if cycle is None or schedules.phase_on(cycle, occ.local_date) not in (
                    CyclePhase.ACTIVE, CyclePhase.REVIEW):
                continue
            if cycle.id not in with_okrs:
                with_okrs[cycle.id] = set(session.scalars(
                    select(Objective.team_id).distinct().where(
                        Objective.workspace_id == ws.id, Objective.cycle_id == cycle.id,
                        Objective.team_id.isnot(None))))
            if team.id not in with_okrs[cycle.id]:
                continue
            out.append(Due("digest", str(team.channel_id), occ.key, occ.at, team_id=team.id,
                           cycle_id=cycle.id, tz=ws.timezone))
    return out


def enqueue_workspace(session: Session, ws: Workspace, settings: Settings,
                      now: datetime) -> Counter[str]:
    """Everything due for one workspace up to ``now``; returns what was newly enqueued."""
    grace = timedelta(hours=settings.grace_hours)
    state = session.get(SchedulerState, ws.id)
    start = window_start(state.last_tick_at if state else None, now, grace)
    cycles = schedules.cycles_of(session=session, workspace_id=ws.id)
    owner_cache: dict[int, set[int]] = {}

    def owners(cycle_id: int) -> set[int]:
        if cycle_id not in owner_cache:
            owner_cache[cycle_id] = schedules.kr_owner_ids(
                session=session, workspace_id=ws.id, cycle_id=cycle_id)
        return owner_cache[cycle_id]

    rows: list[Due] = []
    weeks: dict[int, WorkWeek] | None = None
    if cycles:
        plans = schedules.checkin_plans(session=session, ws=ws)
        weeks = workweeks.weeks_for(session, ws)
        rows += due_prompts(plans, cycles, owners, start, now, weeks)
        rows += due_digests(session, ws, cycles, start, now)
        rows += due_reminders(session, ws, cycles, start, now, weeks)
        rows += review_jobs.due(session, ws, now, settings)
    counts = insert(session, ws.id, rows, now, grace)
    # The ladder follows prompts already sent (and sees those just enqueued, which supersede
    # older ones), so it comes after the inserts above.
    counts += insert(session, ws.id, due_ladder(session, ws, settings, start, now, weeks), now,
                     grace)
    if state is None:
        session.execute(insert_ignore(session, SchedulerState).values(
            workspace_id=ws.id, last_tick_at=now))
    elif state.last_tick_at < now:
        state.last_tick_at = now
    return counts


def enqueue(factory: sessionmaker[Session], settings: Settings, now: datetime, *,
            only: Collection[int] | None = None) -> Counter[str]:
    """Enqueue for every workspace (or those in ``only``: the ones this process holds the
    lease of), each in its own transaction: one broken workspace does not stop the others."""
    total: Counter[str] = Counter()
    with unit_of_work(factory) as session:
        # A disabled workspace (the app was uninstalled) gets nothing new.
        ids = list(session.scalars(select(Workspace.id).where(Workspace.disabled_at.is_(None))
                                   .order_by(Workspace.id)))
    for ws_id in ids if only is None else [w for w in ids if w in only]:
        try:
            with unit_of_work(factory) as session:
                ws = session.get(Workspace, ws_id)
                if ws is not None:
                    total += enqueue_workspace(session, ws, settings, now)
        except DBAPIError:
            raise  # the database itself is in trouble: the whole tick stops and retries later
        except Exception:
            log.exception("scheduler.enqueue_failed", extra={"workspace_id": ws_id})
    return total


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
        enqueued = enqueue(factory, settings, now, only=held)
        delivered: Counter[str] = Counter()
        more = False
        if deliver and held:
            pacer = pacer or Pacer(settings.workspace_send_rate_per_second,
                                   settings.send_rate_per_second)
            for ws_id, seconds in work.holds.items():
                pacer.hold(ws_id, seconds)
            deliverer = Deliverer(factory, settings, client_for, pacer=pacer,
                                  worker_id=worker_id, clock=clock, threads=threads,
                                  leases=work)
            budget = budget_seconds if budget_seconds is not None \
                else settings.tick_seconds * 0.8
            delivered = deliverer.run(budget)
            more = deliverer.more
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
