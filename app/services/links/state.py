"""Applying a tracker item's state to the links that point at it: the webhook hot path.

Written with SQLAlchemy Core on the session's connection (no ORM unit of work): every
webhook runs it, and it is a handful of statements: find and lock the KRs that link the item,
read their links, update the links that changed, append a check-in (and its audit entry) for
each KR whose score moved. KRs are locked in id order (``FOR UPDATE`` on PostgreSQL; SQLite
serialises writers), so two deliveries for the same item, or for two items of one KR, apply
one after the other and never deadlock.

A KR of a ``closed`` cycle is read-only: its links still take what the tracker says (state,
kind, title, times) but not whether they count as closed, so its score does not move and no
check-in is appended. After ``okr cycle reopen`` the next delivery or reconciliation of the
item moves the score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.domain import CheckinSource, CyclePhase, KRType
from app.models import AuditEntry, Checkin, Cycle, IssueLink, KeyResult, Objective
from app.services.errors import InvalidValue
from app.services.links.refs import (
    DELETED,
    MAX_NOTE,
    ApplyResult,
    ItemState,
    counts,
    counts_as_closed,
    item_filter,
    kr_score_of,
    short_ref,
)

_KR = cast(Table, KeyResult.__table__)
_LINK = cast(Table, IssueLink.__table__)
_CHECKINS = cast(Table, Checkin.__table__)
_AUDIT = cast(Table, AuditEntry.__table__)
_OBJ = cast(Table, Objective.__table__)
_CYCLE = cast(Table, Cycle.__table__)
_UPDATE_LINK = (
    update(_LINK).where(_LINK.c.id == bindparam("b_id"))
    .values(kind=bindparam("b_kind"), state=bindparam("b_state"), closed=bindparam("b_closed"),
            state_updated_at=bindparam("b_state_at"), source_updated_at=bindparam("b_source_at"),
            title=bindparam("b_title"))
)


@dataclass
class _Link:
    id: int
    kind: str
    state: str
    closed: bool
    weight: float
    source_updated_at: datetime | None
    title: str | None
    state_updated_at: datetime | None
    matches: bool  # points at the item being applied
    left_at: datetime | None = None  # left the KR's saved search: does not count


@dataclass(frozen=True)
class LockedKR:
    id: int
    key: str
    workspace_id: int
    kr_type: str
    frozen: bool = False  # in a closed cycle: the score stays where it was


def lock_for_item(session: Session, item: ItemState, workspace_id: int) -> list[LockedKR]:
    """Find and lock (in id order) the KRs of one workspace with a link to the item; [] when
    none links it. Every writer names the workspace: an item linked in two workspaces is two
    independent links.

    The links themselves are read by :func:`apply_locked` in a statement of its own, after
    the locks are granted: a locking read that also joined the links would see them as they
    were before a concurrent writer it waited for committed (PostgreSQL re-checks only the
    locked rows).
    """
    closed = (_CYCLE.c.phase == CyclePhase.CLOSED.value).label("frozen")
    rows = session.connection().execute(
        select(_KR.c.id, _KR.c.key, _KR.c.workspace_id, _KR.c.kr_type, closed)
        .join(_OBJ, _OBJ.c.id == _KR.c.objective_id)
        .join(_CYCLE, _CYCLE.c.id == _OBJ.c.cycle_id)
        .where(_KR.c.id.in_(select(_LINK.c.kr_id).where(*item_filter(item, workspace_id))))
        .order_by(_KR.c.id)
        .with_for_update(of=_KR)
    ).all()
    return [LockedKR(r.id, r.key, r.workspace_id, r.kr_type, bool(r.frozen)) for r in rows]


def _links(session: Session, item: ItemState, krs: Sequence[LockedKR],
           workspace_id: int) -> dict[int, list[_Link]]:
    matches = and_(*item_filter(item, workspace_id))
    rows = session.connection().execute(
        select(_LINK.c.kr_id, _LINK.c.id, _LINK.c.kind, _LINK.c.state, _LINK.c.closed,
               _LINK.c.weight, _LINK.c.source_updated_at, _LINK.c.title,
               _LINK.c.state_updated_at, matches.label("matches"), _LINK.c.left_at)
        .where(_LINK.c.kr_id.in_([kr.id for kr in krs]))
        .order_by(_LINK.c.kr_id, _LINK.c.id)
    ).all()
    out: dict[int, list[_Link]] = {}
    for r in rows:
        out.setdefault(r.kr_id, []).append(_Link(
            r.id, r.kind, r.state, r.closed, r.weight, r.source_updated_at, r.title,
            r.state_updated_at, matches=bool(r.matches), left_at=r.left_at))
    return out


def _score(links: Sequence[_Link]) -> float:
    return kr_score_of((lk.closed, lk.weight) for lk in links
                       if counts(lk.state, lk.left_at))


def apply_state(
    *, session: Session, item: ItemState, now: datetime, actor_label: str, workspace_id: int,
    reason: str | None = None,
) -> ApplyResult:
    """Apply an item's state to the workspace's links pointing at it, re-score and note
    moved KRs.

    Idempotent: applying the same state twice changes nothing the second time. A state
    whose ``updated_at`` is older than the one already applied is ignored (late delivery).
    """
    _check(item)
    krs = lock_for_item(session, item, workspace_id)
    return apply_locked(session=session, item=item, krs=krs, now=now, actor_label=actor_label,
                        reason=reason, workspace_id=workspace_id)


def _check(item: ItemState) -> None:
    if item.state not in ("open", "closed", "merged", "deleted"):
        raise InvalidValue(f"unknown state {item.state!r}", field="state")


def apply_locked(
    *, session: Session, item: ItemState, krs: Sequence[LockedKR], now: datetime,
    actor_label: str, workspace_id: int, reason: str | None = None,
) -> ApplyResult:
    """:func:`apply_state` for KRs already locked by :func:`lock_for_item`."""
    _check(item)
    if not krs:
        return ApplyResult()
    by_kr = _links(session, item, krs, workspace_id)
    updates: list[dict[str, Any]] = []
    checkins: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    changed = matched = 0
    for kr in krs:
        links = by_kr.get(kr.id, [])
        before = _score(links)
        touched: _Link | None = None
        for link in links:
            if not link.matches:
                continue
            matched += 1
            if _stale(link, item.updated_at):
                continue
            kind = item.kind if item.provider == "github" else link.kind
            # A closed cycle's KR keeps what counted when it closed (see the module doc).
            # Nor does it drop or regain an item deleted in the tracker.
            closed = link.closed if kr.frozen else counts_as_closed(kind, item.state)
            state = (link.state if kr.frozen and DELETED in (item.state, link.state)
                     else item.state)
            title = item.title[:300] if item.title else link.title
            source_at = item.updated_at or link.source_updated_at
            moved = (link.state, link.closed, link.kind) != (state, closed, kind)
            if moved:
                changed += 1
                touched = link
                link.kind, link.state, link.closed = kind, state, closed
                link.state_updated_at = now
            if moved or (source_at, title) != (link.source_updated_at, link.title):
                updates.append({"b_id": link.id, "b_kind": link.kind, "b_state": link.state,
                                "b_closed": link.closed, "b_state_at": link.state_updated_at,
                                "b_source_at": source_at, "b_title": title})
        after = _score(links)
        if touched is None or kr.kr_type != KRType.ISSUES.value or math.isclose(
                before, after, abs_tol=1e-9):
            continue
        ref = short_ref(item.provider, item.project, touched.kind, item.number)
        note = f"{ref} {'reopened' if item.state == 'open' else item.state}"
        note = (f"{note} ({reason})" if reason else note)[:MAX_NOTE]
        checkins.append({"workspace_id": kr.workspace_id, "kr_id": kr.id, "at": now,
                         "score": after, "note": note, "source": CheckinSource.ISSUES.value})
        audits.append({"workspace_id": kr.workspace_id, "at": now, "actor_label": actor_label,
                       "action": "checkin", "subject_type": "key_result", "subject_key": kr.key,
                       "before": {"score": round(before, 6)},
                       "after": {"score": round(after, 6), "note": note}})
    _write(session, updates, checkins, audits)
    return ApplyResult(matched=matched, changed=changed, checkins=len(checkins))


def _write(session: Session, updates: list[dict[str, Any]], checkins: list[dict[str, Any]],
           audits: list[dict[str, Any]]) -> None:
    conn = session.connection()
    if updates:
        conn.execute(_UPDATE_LINK, updates)
        # ORM copies of these links loaded earlier in this session are now out of date.
        ids = {u["b_id"] for u in updates}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, IssueLink) and obj.id in ids:
                session.expire(obj)
    if checkins:
        conn.execute(insert(_CHECKINS), checkins)
        conn.execute(insert(_AUDIT), audits)


def _stale(link: _Link, updated_at: datetime | None) -> bool:
    return (updated_at is not None and link.source_updated_at is not None
            and updated_at < link.source_updated_at)
