"""Enqueueing: what fell due for a batch of workspaces, inserted as delivery rows.

A tick computes what is due for every workspace it holds the lease of. The facts are read for
a whole batch of workspaces at once (``app.services.scheduling.tick_facts``: a handful of
statements, however many workspaces), what is due is worked out in Python per workspace,
exactly as for a workspace alone, and the rows of the whole batch are inserted together with
``INSERT ... ON CONFLICT DO NOTHING`` (``scheduler.due``), so a workspace where nothing is due
costs next to nothing and exactly-once still rests on the rows' unique key.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from app.calendar import cadence, placement
from app.calendar.workweek import WorkWeek
from app.config import Settings
from app.db import unit_of_work
from app.domain import CyclePhase, Due
from app.models import Cycle, SchedulerState, Workspace
from app.services.scheduling import schedules
from app.services.scheduling.schedules import PersonPlan, in_ids, insert_ignore
from app.services.scheduling.tick_facts import TickFacts, WorkspaceFacts
from scheduler import review_jobs
from scheduler.due import insert_many, window_start
from scheduler.ladder import due_ladder
from scheduler.reminders import due_reminders

log = logging.getLogger(__name__)

BATCH = 500  # workspaces read, computed and inserted together, in one transaction


DEFAULT_WEEK = WorkWeek()


def due_prompts(plans: Iterable[PersonPlan], cycles: Sequence[Cycle],
                owners: Callable[[int], set[int]], start: datetime,
                now: datetime, weeks: Mapping[int, WorkWeek] | None = None, *,
                memo: dict[tuple[Any, ...], list[placement.Placed]] | None = None) -> list[Due]:
    """Check-in prompts due in ``(start, now]`` for people owning KRs in a running cycle.

    Each occurrence is placed in its person's working week (``weeks``; default Monday to
    Friday): off non-working days, into working hours. What cannot be sent (two landing on one
    instant, no working day in reach) is due as skipped, with its reason. The remaining rules
    (away, skipped week, recent check-in, all KRs paused or done) are decided at send time.

    Placing is pure, and thousands of people share a handful of (schedule, zone, week): the
    placements are kept in ``memo`` (for one tick: the week objects must stay alive) and
    found again for the next person, or workspace, with the same ones.
    """
    anchor = schedules.anchor_for(cycles)
    dates = tuple((c.start_date, c.end_date) for c in cycles)
    memo = {} if memo is None else memo
    out: list[Due] = []
    for plan in plans:
        tz = schedules.zone(plan.tz)
        week = weeks.get(plan.person_id, DEFAULT_WEEK) if weeks is not None else DEFAULT_WEEK
        key = (plan.schedule, plan.tz, id(week), start, now, dates)
        found = memo.get(key)
        if found is None:
            found = memo[key] = placement.placed_occurrences(plan.schedule, tz, week, start,
                                                             now, anchor=anchor)
        for placed in found:
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


def due_digests(facts: WorkspaceFacts, start: datetime, now: datetime) -> list[Due]:
    """Channel digests of teams with a channel and OKRs in the running cycle (org zone)."""
    ws, cycles = facts.ws, facts.cycles
    tz = schedules.zone(ws.timezone)
    out: list[Due] = []
    for team in facts.teams:
        if team.channel_id is None:
            continue
        schedule = schedules.digest_schedule(team, ws)
        for occ in cadence.occurrences(schedule, tz, start, now,
                                       anchor=schedules.anchor_for(cycles)):
            cycle = schedules.cycle_on(cycles, occ.local_date)
            if cycle is None or schedules.phase_on(cycle, occ.local_date) not in (
                    CyclePhase.ACTIVE, CyclePhase.REVIEW):
                continue
            if team.id not in facts.teams_with_okrs(cycle.id):
                continue
            out.append(Due("digest", str(team.channel_id), occ.key, occ.at, team_id=team.id,
                           cycle_id=cycle.id, tz=ws.timezone))
    return out


def _due_now(session: Session, facts: WorkspaceFacts, settings: Settings,
             now: datetime) -> tuple[list[Due], dict[int, WorkWeek] | None]:
    """What fell due in the workspace's window, but the follow-ups (which read the prompts
    inserted first); and the working weeks, when there is a cycle."""
    if not facts.cycles:
        return [], None
    start, cycles, weeks = facts.start, facts.cycles, facts.weeks()
    rows = due_prompts(facts.plans(), cycles, facts.kr_owners, start, now, weeks,
                       memo=facts.batch.placements)
    rows += due_digests(facts, start, now)
    rows += due_reminders(session, facts.ws, cycles, start, now, weeks, facts=facts)
    rows += review_jobs.due(session, facts.ws, now, settings, cycles)
    return rows, weeks


def enqueue_batch(session: Session, workspaces: Sequence[Workspace], settings: Settings,
                  now: datetime) -> Counter[str]:
    """Everything due up to ``now`` for ``workspaces``, in the caller's transaction; returns
    what was newly enqueued. A workspace whose computation fails is logged and left out (its
    watermark stays, so the next tick looks again); the database failing stops the batch."""
    grace = timedelta(hours=settings.grace_hours)
    facts = TickFacts(session, workspaces, now, lambda last: window_start(last, now, grace))
    first: dict[int, list[Due]] = {}
    weeks: dict[int, dict[int, WorkWeek] | None] = {}
    for wf in facts:
        try:
            first[wf.id], weeks[wf.id] = _due_now(session, wf, settings, now)
        except DBAPIError:
            raise
        except Exception:
            log.exception("scheduler.enqueue_failed", extra={"workspace_id": wf.id})
    counts = insert_many(session, first, now, grace)
    # The ladder follows prompts already sent (and sees those just enqueued, which supersede
    # older ones), so it comes after the inserts above.
    then: dict[int, list[Due]] = {}
    for ws_id in first:
        try:
            then[ws_id] = due_ladder(facts[ws_id], settings, facts[ws_id].start, now,
                                     weeks[ws_id])
        except DBAPIError:
            raise
        except Exception:
            log.exception("scheduler.enqueue_failed", extra={"workspace_id": ws_id})
    counts += insert_many(session, then, now, grace)
    _advance(session, [facts[w] for w in then], now)
    return counts


def _advance(session: Session, done: Sequence[WorkspaceFacts], now: datetime) -> None:
    """Each workspace's watermark to ``now`` (never back)."""
    known = [wf.id for wf in done if wf.has_state]
    if any(wf.last_tick_at is None or wf.last_tick_at < now for wf in done if wf.has_state):
        session.execute(update(SchedulerState).where(
            in_ids(session, SchedulerState.workspace_id, known),
            SchedulerState.last_tick_at < now)
            .values(last_tick_at=now))
    new = [{"workspace_id": wf.id, "last_tick_at": now} for wf in done if not wf.has_state]
    if new:
        session.execute(insert_ignore(session, SchedulerState), new)


def enqueue_workspace(session: Session, ws: Workspace, settings: Settings,
                      now: datetime) -> Counter[str]:
    """Everything due for one workspace up to ``now``; returns what was newly enqueued."""
    return enqueue_batch(session, [ws], settings, now)


def enqueue(factory: sessionmaker[Session], settings: Settings, now: datetime, *,
            only: Collection[int] | None = None) -> Counter[str]:
    """Enqueue for every enabled workspace (or those in ``only``: the ones this process holds
    the lease of), :data:`BATCH` at a time, each batch in its own transaction: one broken
    workspace, or batch, does not stop the others."""
    total: Counter[str] = Counter()
    left = None if only is None else sorted(only)
    after = 0  # without ``only``: the batches follow each other by id
    while left is None or left:
        chunk = None
        if left is not None:
            chunk, left = left[:BATCH], left[BATCH:]
        batch: list[Workspace] = []
        try:
            with unit_of_work(factory) as session:
                batch = _workspaces(session, chunk, after)
                if batch:
                    total += enqueue_batch(session, batch, settings, now)
        except DBAPIError:
            raise  # the database itself is in trouble: the whole tick stops and retries later
        except Exception:
            log.exception("scheduler.enqueue_failed",
                          extra={"workspace_ids": [ws.id for ws in batch]})
        if chunk is None:
            if len(batch) < BATCH:
                break
            after = batch[-1].id
    return total


def _workspaces(session: Session, ids: list[int] | None, after: int) -> list[Workspace]:
    """The enabled workspaces among ``ids``, or the next :data:`BATCH` after ``after``: a
    disabled workspace (the app was uninstalled) gets nothing new."""
    query = select(Workspace).where(Workspace.disabled_at.is_(None)).order_by(Workspace.id)
    if ids is None:
        query = query.where(Workspace.id > after).limit(BATCH)
    else:
        query = query.where(in_ids(session, Workspace.id, ids))
    return list(session.scalars(query))
