"""A check-in form (the Slack modal, one page of it) as one transaction.

Every answer is checked first (the KR exists in this workspace, the person may check in on it,
each field is valid); only when all pass are they recorded. Errors name the KR and the field
(``value``, ``status``, ``confidence``, ``note``, ``blockers`` or ``kr``) so the caller can
show them inline. ``key_prefix`` makes the submission idempotent: the same prefix records
each KR once however often it is submitted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from app.domain import CheckinAnswer, CheckinEntry, CheckinSource, KRType
from app.models import Checkin, Cycle, KeyResult, Objective
from app.services import access
from app.services.access import Principal
from app.services.checkins import record as checkins
from app.services.errors import InvalidValue
from app.services.okrs.cache import KRWrite

MAX_ANSWERS = 100


@dataclass
class FormOutcome:
    recorded: list[str] = field(default_factory=list)  # KR keys (new or already recorded)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    # Every answer as history now holds it, when all were recorded by this submission and
    # none needs more than the form knows (an issues KR's score comes from its links);
    # empty otherwise: read them back with :func:`corrections.recorded`.
    entries: list[CheckinEntry] = field(default_factory=list)
    # With ``track``: what the writes did to the report cache's stamp, for
    # ``ReportCache.note_write`` once committed (None: a change the stamp cannot show). Empty
    # without ``track`` or from the ORM writer: the next read reads the cycle whole.
    changes: list[KRWrite | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError as exc:
        raise InvalidValue("enter a number", field="value") from exc
    if not math.isfinite(value):
        raise InvalidValue("enter a number", field="value")
    return value


def measured(kr: KeyResult, a: CheckinAnswer) -> CheckinAnswer:
    """Read an answer as typed (``value_text``, ``milestone_done``) against this KR's type into
    the measured answer the writer takes (raises InvalidValue)."""
    if a.status is None:
        raise InvalidValue("pick a status", field="status")
    base = CheckinAnswer(kr_key=kr.key, status=a.status, confidence=a.confidence, note=a.note,
                         blockers=a.blockers)
    kr_type = KRType(kr.kr_type)
    if a.no_change:
        if kr.last_checkin_at is None:
            raise InvalidValue("there is no earlier check-in to repeat: enter a value",
                               field="value")
        return replace(base, no_change=True)
    if kr_type == KRType.MANUAL:
        score = _number(a.value_text)
        if score is None:
            raise InvalidValue("enter a score between 0.0 and 1.0", field="value")
        return replace(base, score=score)
    if kr_type == KRType.MILESTONE:
        if a.value_text is not None or a.milestone_done is None:
            raise InvalidValue("tick Done or leave it unticked", field="value")
        return replace(base, value=1.0 if a.milestone_done else 0.0)
    if kr_type.takes_value:
        if a.milestone_done is not None:
            raise InvalidValue("enter a number", field="value")
        value = _number(a.value_text)
        if value is None:
            raise InvalidValue("enter the current value, or tick No change", field="value")
        return replace(base, value=value)
    if a.value_text is not None or a.milestone_done is not None:
        raise InvalidValue("this key result moves by itself: no value to enter", field="value")
    return base


# Built once: building the statement and its cache key for every form cost a third of the
# read's time.
_KRS = (
    select(KeyResult, Cycle)
    .join(Objective, Objective.id == KeyResult.objective_id)
    .join(Cycle, Cycle.id == Objective.cycle_id)
    .options(contains_eager(KeyResult.objective))
    .where(KeyResult.workspace_id == bindparam("workspace_id"),
           KeyResult.key.in_(bindparam("keys", expanding=True)))
)


def _krs(session: Session, workspace_id: int,
         keys: list[str]) -> tuple[dict[str, KeyResult], list[Cycle]]:
    """The answers' KRs by key, with their objectives, and their cycles, in one query."""
    rows = session.execute(_KRS, {"workspace_id": workspace_id, "keys": keys}).all()
    return {kr.key: kr for kr, _ in rows}, [c for _, c in rows]


def _field_of(exc: InvalidValue) -> str:
    return "value" if exc.field in ("value", "score", None) else str(exc.field)


def submit(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
           answers: Sequence[CheckinAnswer], now: datetime, key_prefix: str,
           source: CheckinSource = CheckinSource.SLACK, track: bool = False) -> FormOutcome:
    """Validate every answer, then record them all, or record nothing.

    ``track``: tell in ``changes`` what the write did to the report cache's stamp."""
    out = FormOutcome()
    if not answers:
        out.errors[("", "kr")] = "there is nothing to check in on"
        return out
    if len(answers) > MAX_ANSWERS:
        out.errors[("", "kr")] = "too many key results in one submission"
        return out
    # ``_cycles`` stays referenced until the write: the writer's closed-cycle guard finds them
    # in the session's identity map (which keeps rows only while they are referenced).
    krs, _cycles = _krs(session, workspace_id, [a.kr_key for a in answers])
    led: set[int] | None = None  # teams the actor leads, read only if needed
    inputs: list[tuple[KeyResult, CheckinAnswer]] = []
    for a in answers:
        kr = krs.get(a.kr_key)
        if kr is not None and kr.owner_id != actor.id and led is None:
            led = access.led_team_ids(session=session, workspace_id=workspace_id,
                                     person_id=actor.id)
        if kr is None or not access.can_edit_kr(actor, kr, kr.objective, led or set()):
            # Same words for both: do not confirm that someone else's KR exists.
            out.errors[(a.kr_key, "kr")] = "you cannot check in on this key result"
            continue
        try:
            data = measured(kr, a)
            checkins.validate(kr, data)
        except InvalidValue as exc:
            out.errors[(a.kr_key, _field_of(exc))] = exc.message
            continue
        inputs.append((kr, data))
    if out.errors:
        return out
    fresh = checkins.batch_entries(session=session, workspace_id=workspace_id, items=inputs,
                                   author_id=actor.id, actor_label=actor_label, source=source,
                                   now=now, key_prefix=key_prefix,
                                   changes=out.changes if track else None)
    out.recorded = [kr.key for kr, _ in inputs]
    if len(fresh) == len(inputs) and not any(
            kr.kr_type == KRType.ISSUES.value for kr, _ in inputs):
        out.entries = fresh
    return out


def recorded(*, session: Session, workspace_id: int, key_prefix: str,
             kr_keys: Sequence[str]) -> list[tuple[str, str | None, float | None]]:
    """(KR title, status, score) of the check-ins a form recorded, in ``kr_keys`` order."""
    wanted = {f"{key_prefix}:{k}"[:200]: i for i, k in enumerate(kr_keys)}
    rows = session.execute(
        select(Checkin.idempotency_key, KeyResult.title, Checkin.status, Checkin.score)
        .join(KeyResult, KeyResult.id == Checkin.kr_id)
        .where(Checkin.workspace_id == workspace_id,
               Checkin.idempotency_key.in_(list(wanted)))).all()
    ordered = sorted(rows, key=lambda r: wanted.get(str(r[0]), 0))
    return [(title, status, score) for _, title, status, score in ordered]
