"""How a due item (``app.domain.Due``) becomes a delivery row (the unique key makes inserting
idempotent)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import Due
from app.models import Delivery
from app.services.scheduling.schedules import insert_ignore

# How far back a tick looks when the last tick is long ago (everything was down). Older
# occurrences are neither sent nor recorded: a scheduler down for weeks does not flood.
MAX_LOOKBACK = timedelta(days=14)
MISSED = "due while no scheduler was running; past the grace window"


def window_start(last_tick_at: datetime | None, now: datetime, grace: timedelta) -> datetime:
    """Where this tick's look-back begins: the last tick (to find what was missed while down),
    at least the grace window, at most ``MAX_LOOKBACK``."""
    start = now - grace
    if last_tick_at is not None:
        start = min(start, last_tick_at)
    return max(start, now - MAX_LOOKBACK)


def insert(session: Session, ws_id: int, rows: Sequence[Due], now: datetime,
           grace: timedelta) -> Counter[str]:
    """Insert what is not there yet; count inserted rows by ``kind:state``."""
    return insert_many(session, {ws_id: rows}, now, grace)


def insert_many(session: Session, rows: Mapping[int, Sequence[Due]], now: datetime,
                grace: timedelta) -> Counter[str]:
    """Insert what is not there yet of each workspace's rows, in one go for all of them (in
    the given order); count inserted rows by ``kind:state``."""
    items = [(ws_id, d) for ws_id, due in rows.items() for d in due]
    if not items:
        return Counter()
    # Most of what is due was inserted by an earlier tick (the window looks back hours): read
    # those keys in one indexed query instead of sending thousands of rows to be ignored.
    earliest = min(d.due_at for _, d in items)
    latest = max(d.due_at for _, d in items)
    have = set(session.execute(select(
        Delivery.workspace_id, Delivery.kind, Delivery.target, Delivery.occurrence).where(
        Delivery.workspace_id.in_(sorted({ws_id for ws_id, _ in items})),
        Delivery.due_at >= earliest, Delivery.due_at <= latest)).tuples())
    values = []
    for ws_id, d in items:
        if (ws_id, d.kind, d.target, d.occurrence) in have:
            continue
        # A due item that cannot be sent (e.g. a prompt with no working day to move to) is
        # recorded as skipped with its reason, never dropped.
        skip = (d.payload or {}).get("skip")
        missed = d.due_at + grace < now
        state = "skipped" if skip else "missed" if missed else "pending"
        values.append({
            "workspace_id": ws_id, "kind": d.kind, "target": d.target,
            "occurrence": d.occurrence, "due_at": d.due_at,
            "state": state, "attempts": 0,
            "error": skip or (MISSED if missed else None), "created_at": now,
            "person_id": d.person_id, "team_id": d.team_id, "cycle_id": d.cycle_id,
            "tz": d.tz, "payload": d.payload or None,
        })
    counts: Counter[str] = Counter()
    if not values:
        return counts
    stmt = insert_ignore(session, Delivery).returning(Delivery.kind, Delivery.state)
    for chunk in range(0, len(values), 2000):
        for kind, state in session.execute(stmt, values[chunk:chunk + 2000]):
            counts[f"{kind}:{state}"] += 1
    return counts
