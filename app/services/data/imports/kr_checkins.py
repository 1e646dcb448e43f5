"""The check-ins an import file implies: a KR's ``current``, ``score`` and ``status``.

They become a check-in (source ``import``) only when they differ from the KR's current
state, so re-importing records nothing. A KR the file creates has no state yet: its
check-in is planned before the KR is written (:func:`for_new_krs`), and the KR's row goes in
already carrying that check-in's projection instead of being updated right after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.domain import CheckinAnswer, CheckinSource, KRState, KRType
from app.models import Checkin, KeyResult
from app.services.checkins import record as checkins
from app.services.data.bulk import bulk_insert, bulk_update
from app.services.data.imports.apply import Context, Entry
from app.services.data.imports.checks import Document
from app.services.data.imports.schema import KeyResultIn


@dataclass(frozen=True, slots=True)
class _Stored:
    """What a check-in is compared with and validated against: a KR's current state."""

    id: int | None
    kr_type: str
    start_value: float | None
    target_value: float | None
    current_value: float | None
    manual_score: float | None
    declared_status: str | None
    state: str
    weight: float


@dataclass
class Planned:
    """Check-ins of the KRs the file creates, keyed by KR key."""

    projections: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict)  # key -> (check-in row without kr_id, audit before, after)


def _given(doc: Document) -> list[KeyResultIn]:
    return [kr for _, o in doc.objectives for kr in o.key_results
            if kr.current is not None or kr.score is not None or kr.status is not None]


def for_new_krs(ctx: Context, doc: Document, entries: list[Entry],
                existing: Mapping[str, Any]) -> Planned:
    """Plan the check-ins of KRs not yet stored, from their entries' values."""
    planned = Planned()
    values = {entry.key: entry.values for entry in entries if entry.key not in existing}
    for kr in _given(doc):
        if kr.id not in values:
            continue
        v = values[kr.id]
        stored = _Stored(None, v["type"], v["start"], v["target"], None, None, None,
                         v["state"], v["weight"])
        made = _checkin(ctx, kr, stored)
        if made is not None:
            row, projection, before, after = made
            planned.projections[kr.id] = projection
            planned.rows[kr.id] = (row, before, after)
    return planned


def apply(ctx: Context, doc: Document, planned: Planned) -> None:
    """Record the file's check-ins: those planned for new KRs and those of stored KRs."""
    kr_ids = ctx.ids["key_results"]
    given = _given(doc)
    stored_krs = [kr for kr in given if kr.id not in planned.rows]
    wanted_ids = {kr_ids[kr.id] for kr in stored_krs}
    rows = {r.id: _Stored(*r) for r in ctx.session.execute(
        select(KeyResult.id, KeyResult.kr_type, KeyResult.start_value, KeyResult.target_value,
               KeyResult.current_value, KeyResult.manual_score, KeyResult.declared_status,
               KeyResult.state, KeyResult.weight).where(
            KeyResult.workspace_id == ctx.workspace.id)) if r.id in wanted_ids} \
        if wanted_ids else {}
    new_rows: list[dict[str, Any]] = []
    projections: list[dict[str, Any]] = []
    for kr in given:
        if kr.id in planned.rows:
            row, before, after = planned.rows[kr.id]
            new_rows.append({**row, "kr_id": kr_ids[kr.id]})
        else:
            made = _checkin(ctx, kr, rows[kr_ids[kr.id]])
            if made is None:
                continue
            row, projection, before, after = made
            new_rows.append(row)
            projections.append(projection)
        ctx.audit("checkin", "key_result", kr.id, before, after)
    if new_rows:
        bulk_insert(ctx.session, Checkin, new_rows)
    bulk_update(ctx.session, KeyResult, projections)
    ctx.summary.checkins += len(new_rows)


def _checkin(ctx: Context, kr: KeyResultIn, row: _Stored) -> tuple[
        dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """The check-in row, the KR's new projection and the audit's before and after, or None
    when the file says what is already stored. Without a stored id (a KR being created) the
    check-in row lacks ``kr_id`` and the projection its ``id``."""
    if not ((kr.current is not None and kr.current != row.current_value)
            or (kr.score is not None and kr.score != row.manual_score)
            or (kr.status is not None and kr.status != row.declared_status)):
        return None
    model = KeyResult(key=kr.id, kr_type=row.kr_type, start_value=row.start_value,
                      target_value=row.target_value, current_value=row.current_value,
                      manual_score=row.manual_score, weight=row.weight)
    data = CheckinAnswer(kr_key=kr.id, value=kr.current, score=kr.score, status=kr.status,
                         no_change=kr.current is None and kr.score is None)
    value, manual = checkins.validate(model, data)
    score = checkins.score_after(model, value, manual)
    new_row = {
        "workspace_id": ctx.workspace.id, "author_id": None, "at": ctx.now,
        "value": value, "score": score, "status": kr.status, "confidence": None,
        "note": None, "blockers": None, "source": CheckinSource.IMPORT.value,
        "idempotency_key": None,
    }
    projection: dict[str, Any] = {"current_value": value, "manual_score": manual,
                                  "last_checkin_at": ctx.now, "updated_at": ctx.now}
    if row.id is not None:
        new_row["kr_id"] = row.id
        projection["id"] = row.id
    if kr.status is not None:
        projection["declared_status"] = kr.status
    if (row.kr_type == KRType.MILESTONE.value and value == 1.0 and kr.state is None
            and row.state == KRState.ACTIVE.value):
        projection["state"] = KRState.DONE.value
    before = {"current": row.current_value, "manual_score": row.manual_score,
              "declared_status": row.declared_status}
    after = {"current": value, "manual_score": manual, "status": kr.status, "score": score}
    return new_row, projection, before, after
