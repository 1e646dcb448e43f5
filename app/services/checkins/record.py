"""Recording check-ins: validate, append to history, refresh the KR's projection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import scoring
from app.domain import CheckinSource, Confidence, KRFacts, KRState, KRType, TrafficLight
from app.models import Checkin, KeyResult
from app.services import audit
from app.services.errors import InvalidValue


@dataclass(frozen=True, slots=True)
class CheckinInput:
    """One KR's answer. ``value`` for measured types, ``score`` for manual KRs.

    ``no_change`` carries the last value forward (a check-in that says "still here").
    """

    kr_key: str
    value: float | None = None
    score: float | None = None
    status: str | None = None
    confidence: str | None = None
    note: str | None = None
    blockers: str | None = None
    no_change: bool = False


MAX_TEXT = 3000


def validate(kr: KeyResult, data: CheckinInput) -> tuple[float | None, float | None]:
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
        if text is not None and len(text) > MAX_TEXT:
            raise InvalidValue(f"keep the {name} under {MAX_TEXT} characters", field=name)
    return value, manual


def score_after(kr: KeyResult, value: float | None, manual: float | None) -> float | None:
    """The KR's score with this value, for the types a value decides."""
    kr_type = KRType(kr.kr_type)
    if kr_type in (KRType.ISSUES, KRType.CHILDREN):
        return None
    facts = KRFacts(id=kr.key, kr_type=kr_type, start=kr.start_value, target=kr.target_value,
                    current=value, manual_score=manual, weight=kr.weight)
    return scoring.kr_score(facts)


def record(
    *,
    session: Session,
    workspace_id: int,
    kr: KeyResult,
    data: CheckinInput,
    author_id: int | None,
    actor_label: str,
    source: CheckinSource,
    now: datetime,
    idempotency_key: str | None = None,
    score_override: float | None = None,
) -> Checkin:
    """Append a check-in and move the KR's current value, status and manual score.

    With an ``idempotency_key`` already used in this workspace, the earlier check-in is
    returned and nothing changes (a double submit records once).
    """
    if kr.workspace_id != workspace_id:
        raise InvalidValue("unknown key result", field="kr")
    if idempotency_key is not None:
        existing = session.scalars(
            select(Checkin).where(Checkin.workspace_id == workspace_id,
                                  Checkin.idempotency_key == idempotency_key)
        ).first()
        if existing is not None:
            return existing
    value, manual = validate(kr, data)
    score = score_override if score_override is not None else score_after(kr, value, manual)
    before = {"current": kr.current_value, "manual_score": kr.manual_score,
              "declared_status": kr.declared_status}
    row = Checkin(
        workspace_id=workspace_id, kr_id=kr.id, author_id=author_id, at=now, value=value,
        score=score, status=data.status, confidence=data.confidence,
        note=(data.note or None), blockers=(data.blockers or None), source=source.value,
        idempotency_key=idempotency_key,
    )
    session.add(row)
    # A back-dated check-in (``okr checkin --at``) joins the history without overwriting
    # the KR's projection of a later one.
    if kr.last_checkin_at is None or now >= kr.last_checkin_at:
        kr.current_value = value
        kr.manual_score = manual
        if data.status is not None:
            kr.declared_status = data.status
        if KRType(kr.kr_type) == KRType.MILESTONE and value == 1.0 \
                and kr.state == KRState.ACTIVE:
            kr.state = KRState.DONE.value
        kr.last_checkin_at = now
        kr.updated_at = now
    if idempotency_key is not None:
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            # Another request with the same key won the race: keep its row.
            existing = session.scalars(
                select(Checkin).where(Checkin.workspace_id == workspace_id,
                                      Checkin.idempotency_key == idempotency_key)
            ).first()
            if existing is None:
                raise
            return existing
    else:
        session.flush()
    audit.record(
        session=session, workspace_id=workspace_id, actor_id=author_id, actor_label=actor_label,
        action="checkin", subject_type="key_result", subject_key=kr.key, now=now, before=before,
        after={"current": value, "manual_score": manual, "status": data.status, "score": score},
    )
    return row
