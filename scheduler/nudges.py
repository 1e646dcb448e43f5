"""One follow-up nudge per prompt, after ``nudge_after_hours`` without a check-in, at most
``max_nudges_per_week`` per person and local week.

A nudge's occurrence is the week and its rank (``2026-03-02#nudge1``), so the weekly cap is
held by the unique key itself: two processes racing for the same slot insert one row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import cadence
from app.config import Settings
from app.domain import Due
from app.models import Delivery, Workspace


def due_nudges(session: Session, ws: Workspace, settings: Settings, start: datetime,
               now: datetime) -> list[Due]:
    if settings.max_nudges_per_week <= 0:
        return []
    after = timedelta(hours=settings.nudge_after_hours)
    # Prompts (first sends and snoozes) whose nudge instant falls in (start, now].
    sent = session.execute(
        select(Delivery.id, Delivery.target, Delivery.occurrence, Delivery.payload,
               Delivery.sent_at, Delivery.person_id, Delivery.cycle_id, Delivery.tz)
        .where(Delivery.workspace_id == ws.id, Delivery.kind == "prompt",
               Delivery.state == "sent", Delivery.sent_at > start - after,
               Delivery.sent_at <= now - after)
    ).all()
    if not sent:
        return []
    latest: dict[tuple[str, str], tuple[datetime, int | None, int | None, str | None]] = {}
    for _, target, occ, payload, sent_at, pid, cid, tz in sent:
        base = str((payload or {}).get("base") or occ.split("#", 1)[0])
        key = (target, base)
        if key not in latest or sent_at > latest[key][0]:
            latest[key] = (sent_at, pid, cid, tz)
    targets = {t for t, _ in latest}
    # Everything about these people's prompts and nudges from the last weeks, in one query.
    recent = session.execute(
        select(Delivery.kind, Delivery.target, Delivery.occurrence, Delivery.payload,
               Delivery.state, Delivery.sent_at)
        .where(Delivery.workspace_id == ws.id, Delivery.kind.in_(("prompt", "nudge")),
               Delivery.target.in_(targets), Delivery.due_at > start - after - timedelta(days=8))
    ).all()
    nudged: set[tuple[str, str]] = set()
    per_week: dict[tuple[str, str], int] = defaultdict(int)
    resent_later: set[tuple[str, str]] = set()
    for kind, target, occ, payload, state, sent_at in recent:
        base = str((payload or {}).get("base") or occ.split("#", 1)[0])
        if kind == "nudge":
            nudged.add((target, base))
            per_week[(target, occ.split("#", 1)[0])] += 1
        elif state == "pending" or (sent_at is not None and sent_at + after > now):
            # A snooze still to come or sent recently: its own nudge time has not come.
            resent_later.add((target, base))
    out: list[Due] = []
    for (target, base), (sent_at, pid, cid, tz) in sorted(latest.items()):
        if (target, base) in nudged or (target, base) in resent_later:
            continue
        week = cadence.week_of(date.fromisoformat(base)).isoformat()
        rank = per_week[(target, week)] + 1
        if rank > settings.max_nudges_per_week:
            continue
        per_week[(target, week)] = rank
        out.append(Due("nudge", target, f"{week}#nudge{rank}", sent_at + after, person_id=pid,
                       cycle_id=cid, tz=tz,
                       payload={"base": base, "prompted_at": sent_at.isoformat()}))
    return out
