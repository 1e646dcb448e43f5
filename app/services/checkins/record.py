"""Recording check-ins: validate, append to history, refresh the KR's projection, audit.

One writer for every door: :func:`record` (one answer: the CLI, the API, imports, the demo)
is a batch of one of :func:`record_batch` (a Slack form's answers), and both go through
``_write`` (on PostgreSQL a batch of plain check-ins takes ``batch_pg``'s one statement
instead, storing the same values). A correction (an edit or an undo, see
``checkins/corrections.py``) is a batch of one with a :class:`~app.domain.Correction`: its
row names the entry it supersedes, and the KR's projection is rebuilt from the entries still
in force.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import scoring
from app.domain import (
    CheckinAnswer,
    CheckinEntry,
    CheckinSource,
    Confidence,
    Correction,
    KRFacts,
    KRState,
    KRType,
    TrafficLight,
)
from app.models import Checkin, KeyResult
from app.services import audit
from app.services.checkins import batch_pg
from app.services.errors import InvalidValue
from app.services.okrs.cache import KRWrite
from app.services.okrs.writable import require_open_krs
from app.services.text import text_problem

MAX_TEXT = 3000


def validate(kr: KeyResult, data: CheckinAnswer) -> tuple[float | None, float | None]:
    """Check one answer against its KR; return (value, manual score) to store.

    Raises InvalidValue with ``field`` set to "value", "score", "status", "confidence",
    "note" or "blockers".
    """
    kr_type = KRType(kr.kr_type)
    value, manual = data.value, data.score
    if data.no_change:
        value, manual = kr.current_value, kr.manual_score
    elif kr_type == KRType.MANUAL:
        if manual is None:
            raise InvalidValue("enter a score between 0.0 and 1.0", field="score")
        if not math.isfinite(manual) or not 0.0 <= manual <= 1.0:
            raise InvalidValue("a score is between 0.0 and 1.0", field="score")
        value = None
    elif kr_type.takes_value:
        if value is None:
            raise InvalidValue("enter the current value", field="value")
        if not math.isfinite(value) or abs(value) > 1e15:
            raise InvalidValue("that is not a usable number", field="value")
        if kr_type == KRType.PERCENT and not 0.0 <= value <= 100.0:
            raise InvalidValue("a percentage is between 0 and 100", field="value")
        if kr_type == KRType.MILESTONE and value not in (0.0, 1.0):
            raise InvalidValue("a milestone is done (1) or not (0)", field="value")
    # issues / children KRs move by themselves: a check-in only adds status and words.
    if data.status is not None and data.status not in {t.value for t in TrafficLight}:
        raise InvalidValue("status is green, yellow or red", field="status")
    if data.confidence is not None and data.confidence not in {c.value for c in Confidence}:
        raise InvalidValue("confidence is low, medium or high", field="confidence")
    for name in ("note", "blockers"):
        text = getattr(data, name)
        if text is None:
            continue
        if len(text) > MAX_TEXT:
            raise InvalidValue(f"keep the {name} under {MAX_TEXT} characters", field=name)
        problem = text_problem(text)
        if problem is not None:
            raise InvalidValue(f"the {name} {problem}: remove it and try again", field=name)
    return value, manual


def score_after(kr: KeyResult, value: float | None, manual: float | None) -> float | None:
    """The KR's score with this value, for the types a value decides."""
    kr_type = KRType(kr.kr_type)
    if kr_type in (KRType.ISSUES, KRType.CHILDREN):
        return None
    facts = KRFacts(id=kr.key, kr_type=kr_type, start=kr.start_value, target=kr.target_value,
                    current=value, manual_score=manual, weight=kr.weight)
    return scoring.kr_score(facts)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One validated answer on its way to the history."""

    kr: KeyResult
    data: CheckinAnswer
    key: str | None  # the idempotency key
    value: float | None
    manual: float | None
    score: float | None
    correction: Correction | None = None


def _check(kr: KeyResult, workspace_id: int) -> None:
    if kr.workspace_id != workspace_id:
        raise InvalidValue("unknown key result", field="kr")


def _entry(kr: KeyResult, data: CheckinAnswer, *, workspace_id: int, key: str | None,
           score_override: float | None = None,
           correction: Correction | None = None) -> _Entry:
    _check(kr, workspace_id)
    if correction is not None and correction.undo:
        # What was in force before: validated when it was first recorded.
        c = correction
        return _Entry(kr, replace(data, status=c.status), key, c.value, None, c.score, c)
    value, manual = validate(kr, data)
    score = score_override if score_override is not None else score_after(kr, value, manual)
    return _Entry(kr, data, key, value, manual, score, correction)


def _existing(session: Session, workspace_id: int, key: str) -> Checkin | None:
    return session.scalars(select(Checkin).where(Checkin.workspace_id == workspace_id,
                                                 Checkin.idempotency_key == key)).first()


def record(
    *,
    session: Session,
    workspace_id: int,
    kr: KeyResult,
    data: CheckinAnswer,
    author_id: int | None,
    actor_label: str,
    source: CheckinSource,
    now: datetime,
    idempotency_key: str | None = None,
    score_override: float | None = None,
    correction: Correction | None = None,
) -> Checkin:
    """Append a check-in and move the KR's current value, status and manual score.

    With an ``idempotency_key`` already used in this workspace, the earlier check-in is
    returned and nothing changes (a double submit records once). With a ``correction`` the
    row supersedes an earlier one and the KR follows the latest entry still in force.
    """
    _check(kr, workspace_id)
    if idempotency_key is not None:
        existing = _existing(session, workspace_id, idempotency_key)
        if existing is not None:
            return existing
    entry = _entry(kr, data, workspace_id=workspace_id, key=idempotency_key,
                   score_override=score_override, correction=correction)
    written = _write(session=session, workspace_id=workspace_id, entries=[entry],
                     author_id=author_id, actor_label=actor_label, source=source, now=now)
    if written:
        return written[0][1]
    # Only a used key inserts nothing: another request with this key won the race. Keep its row.
    existing = None if idempotency_key is None else _existing(session, workspace_id,
                                                              idempotency_key)
    if existing is None:
        raise LookupError(f"check-in {idempotency_key!r} neither inserted nor found")
    return existing


def record_batch(*, session: Session, workspace_id: int,
                 items: Sequence[tuple[KeyResult, CheckinAnswer]], author_id: int | None,
                 actor_label: str, source: CheckinSource, now: datetime,
                 key_prefix: str) -> list[str]:
    """:func:`record` for many KRs in a handful of statements; returns the keys recorded now.

    Every answer is validated before anything is written. ``f"{key_prefix}:{kr.key}"`` is
    each check-in's idempotency key: keys already used record nothing, whoever used them first.
    On PostgreSQL the rows, the KRs' projections and the audit entries are one statement
    (:mod:`~app.services.checkins.batch_pg`), with the same values as ``_write``'s.
    """
    return [e.kr_key for e in batch_entries(
        session=session, workspace_id=workspace_id, items=items, author_id=author_id,
        actor_label=actor_label, source=source, now=now, key_prefix=key_prefix)]


def batch_entries(*, session: Session, workspace_id: int,
                  items: Sequence[tuple[KeyResult, CheckinAnswer]], author_id: int | None,
                  actor_label: str, source: CheckinSource,
                  now: datetime, key_prefix: str,
                  changes: list[KRWrite | None] | None = None) -> list[CheckinEntry]:
    """:func:`record_batch`, returning the check-ins recorded now as history holds them.

    ``changes``: given a list, the one-statement writer adds what it did to the report
    cache's stamp (see :meth:`~app.services.okrs.cache.ReportCache.note_write`); the ORM
    writer adds nothing (a cache not told re-reads the cycle)."""
    entries = [_entry(kr, data, workspace_id=workspace_id, key=f"{key_prefix}:{kr.key}"[:200])
               for kr, data in items]
    keys = [e.key for e in entries]
    if session.get_bind().dialect.name == "postgresql" and len(set(keys)) == len(keys):
        require_open_krs(session, [e.kr for e in entries])  # a closed cycle is read-only
        fresh = batch_pg.write(session=session, workspace_id=workspace_id,
                               items=[_new(e, now) for e in entries], author_id=author_id,
                               actor_label=actor_label, source=source.value, now=now,
                               track=changes is not None)
        if changes is not None:
            changes.append(fresh.change)
        by_key = {e.key: e for e in entries}
        return [_history(by_key[c.key], row_id, now) for c, row_id in fresh.rows]
    written = _write(session=session, workspace_id=workspace_id, entries=entries,
                     author_id=author_id, actor_label=actor_label, source=source, now=now)
    return [_history(e, row.id, now) for e, row in written]


def _history(e: _Entry, checkin_id: int, now: datetime) -> CheckinEntry:
    return CheckinEntry(id=checkin_id, kr_key=e.kr.key, kr_title=e.kr.title, at=now,
                        value=e.value, score=e.score, status=e.data.status,
                        confidence=e.data.confidence, note=e.data.note or None,
                        blockers=e.data.blockers or None, can_undo=True)


def _new(e: _Entry, now: datetime) -> batch_pg.NewCheckin:
    """A plain check-in as the one-statement writer takes it: what ``_write`` would store."""
    kr = e.kr
    state = kr.state
    if KRType(kr.kr_type) == KRType.MILESTONE and e.value == 1.0 and state == KRState.ACTIVE:
        state = KRState.DONE.value
    back_dated = kr.last_checkin_at is not None and now < kr.last_checkin_at
    projection = None if back_dated else {
        "current_value": e.value, "manual_score": e.manual, "state": state,
        "declared_status": e.data.status if e.data.status is not None else kr.declared_status}
    return batch_pg.NewCheckin(
        kr=kr, key=e.key or "", value=e.value, score=e.score, status=e.data.status,
        confidence=e.data.confidence, note=e.data.note or None,
        blockers=e.data.blockers or None, projection=projection,
        before=_before(kr), after=_after(e))


def _before(kr: KeyResult) -> dict[str, Any]:
    return {"current": kr.current_value, "manual_score": kr.manual_score,
            "declared_status": kr.declared_status}


def _after(e: _Entry) -> dict[str, Any]:
    return {"current": e.value, "manual_score": e.manual, "status": e.data.status,
            "score": e.score}


def _write(*, session: Session, workspace_id: int, entries: Sequence[_Entry],
           author_id: int | None, actor_label: str, source: CheckinSource,
           now: datetime) -> list[tuple[_Entry, Checkin]]:
    """The one writer: append the rows (a used idempotency key inserts nothing), then for each
    new row move the KR's projection and audit the change. Returns what was written."""
    if not entries:
        return []
    require_open_krs(session, [e.kr for e in entries])  # a closed cycle is read-only
    rows = [{"workspace_id": workspace_id, "kr_id": e.kr.id, "author_id": author_id,
             "at": now, "value": e.value, "score": e.score, "status": e.data.status,
             "confidence": e.data.confidence, "note": e.data.note or None,
             "blockers": e.data.blockers or None, "source": source.value,
             "idempotency_key": e.key,
             "supersedes_id": e.correction.supersedes_id if e.correction else None,
             "undone": bool(e.correction and e.correction.undo)} for e in entries]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Checkin).values(rows).on_conflict_do_nothing(
        index_elements=["workspace_id", "idempotency_key"]).returning(Checkin)
    fresh = {(row.kr_id, row.idempotency_key): row for row in session.scalars(stmt)}
    written: list[tuple[_Entry, Checkin]] = []
    for e in entries:
        row = fresh.get((e.kr.id, e.key))
        if row is None:
            continue
        before = _before(e.kr)
        if e.correction is None:
            _project(e, now)
        else:
            _reproject(session, e.kr, now)
        action = "checkin" if e.correction is None else \
            "checkin.undo" if e.correction.undo else "checkin.correct"
        audit.record(
            session=session, workspace_id=workspace_id, actor_id=author_id,
            actor_label=actor_label, action=action, subject_type="key_result",
            subject_key=e.kr.key, now=now, before=before, after=_after(e))
        written.append((e, row))
    session.flush()
    return written


def _project(e: _Entry, now: datetime) -> None:
    """The KR's projection of its latest check-in.

    A back-dated check-in (``okr checkin --at``) joins the history without overwriting the
    KR's projection of a later one.
    """
    kr = e.kr
    if kr.last_checkin_at is not None and now < kr.last_checkin_at:
        return
    kr.current_value = e.value
    kr.manual_score = e.manual
    if e.data.status is not None:
        kr.declared_status = e.data.status
    if KRType(kr.kr_type) == KRType.MILESTONE and e.value == 1.0 \
            and kr.state == KRState.ACTIVE:
        kr.state = KRState.DONE.value
    kr.last_checkin_at = now
    kr.updated_at = now


def in_force(session: Session, kr: KeyResult) -> list[Checkin]:
    """The KR's check-ins still in force, oldest first: neither superseded nor an undo."""
    session.flush()
    rows = list(session.scalars(select(Checkin).where(
        Checkin.workspace_id == kr.workspace_id, Checkin.kr_id == kr.id)
        .order_by(Checkin.at, Checkin.id)))
    superseded = {r.supersedes_id for r in rows if r.supersedes_id is not None}
    return [r for r in rows if r.id not in superseded and not r.undone]


def _reproject(session: Session, kr: KeyResult, now: datetime) -> None:
    """After a correction: the KR's projection of the latest entry in force (or of none)."""
    kept = in_force(session, kr)
    last = kept[-1] if kept else None
    manual = KRType(kr.kr_type) == KRType.MANUAL
    kr.current_value = None if last is None or manual else last.value
    kr.manual_score = last.score if last is not None and manual else None
    kr.declared_status = next((r.status for r in reversed(kept) if r.status), None)
    kr.last_checkin_at = last.at if last is not None else None
    if KRType(kr.kr_type) == KRType.MILESTONE:
        done = kr.current_value == 1.0
        if done and kr.state == KRState.ACTIVE:
            kr.state = KRState.DONE.value
        elif not done and kr.state == KRState.DONE:
            kr.state = KRState.ACTIVE.value
    kr.updated_at = now
