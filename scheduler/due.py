"""How a due item (``app.domain.Due``) becomes a delivery row (the unique key makes inserting
idempotent)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, bindparam, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from app.domain import Due
from app.models import Delivery
from app.services.scheduling.schedules import in_ids, insert_ignore

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
    # Rows due "now" (a retrospective) keep the instant of the tick that first enqueued them:
    # those are looked up by their key.
    timed = [d for _, d in items if d.due_at != now]
    found: list[Any] = [Delivery.kind.in_(sorted({d.kind for _, d in items if d.due_at == now})) &
             Delivery.occurrence.in_(sorted({d.occurrence for _, d in items
                                             if d.due_at == now}))] if len(timed) < len(items) \
        else []
    if timed:
        found.append(Delivery.due_at.between(min(d.due_at for d in timed),
                                             max(d.due_at for d in timed)))
    have = set(session.execute(select(
        Delivery.workspace_id, Delivery.kind, Delivery.target, Delivery.occurrence).where(
        in_ids(session, Delivery.workspace_id, sorted({ws_id for ws_id, _ in items})),
        or_(*found))).tuples())
    values: list[dict[str, Any]] = []
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
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = _UNNEST if postgres else \
        insert_ignore(session, Delivery).returning(Delivery.kind, Delivery.state)
    for chunk in range(0, len(values), 5000):
        part = values[chunk:chunk + 5000]
        for kind, state in session.execute(stmt, _columns(part) if postgres else part):
            counts[f"{kind}:{state}"] += 1
    return counts


# PostgreSQL: the rows as one array per column, a statement of fixed size however many rows
# (a multi-row VALUES has a placeholder per value, which the driver parses each time).
_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("workspace_id", Integer), ("kind", String), ("target", String), ("occurrence", String),
    ("due_at", DateTime(timezone=True)), ("state", String), ("error", Text),
    ("person_id", Integer), ("team_id", Integer), ("cycle_id", Integer), ("tz", String),
    ("payload", Text))
_UNNEST = text(
    "INSERT INTO deliveries (workspace_id, kind, target, occurrence, due_at, state, attempts, "
    "error, created_at, person_id, team_id, cycle_id, tz, payload) "
    "SELECT workspace_id, kind, target, occurrence, due_at, state, 0, error, "
    "CAST(:created_at AS timestamptz), person_id, team_id, cycle_id, tz, CAST(payload AS jsonb) "
    f"FROM unnest({', '.join(f':{name}' for name, _ in _COLUMNS)}) "
    f"AS rows({', '.join(name for name, _ in _COLUMNS)}) "
    "ON CONFLICT DO NOTHING RETURNING kind, state").bindparams(
    *(bindparam(name, type_=ARRAY(kind)) for name, kind in _COLUMNS))


def _columns(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {name: [r[name] for r in rows] for name, _ in _COLUMNS}
    # As the JSON column stores it: no payload is JSON null, not SQL NULL.
    out["payload"] = [json.dumps(p) for p in out["payload"]]
    out["created_at"] = rows[0]["created_at"]
    return out
