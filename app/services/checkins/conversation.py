"""A check-in written in the bot's DM: read it, check it, record what it says, in one go.

The person's KRs are their open KRs in the current cycle (``okrs.mine.owned_krs``); the text
is read by :func:`app.services.checkins.reply.parse`. Lines that read well are checked like
any other answer (the person may check in on the KR, the value fits its type) and recorded
together through the one writer (``record.record_batch``, source ``slack``). A line that
cannot be read, or fails those checks, stores nothing and is reported; the other lines are
still recorded (the reply says which were and which were not).

``key_prefix`` (the DM channel and the message's ts) makes it idempotent: a message seen
twice (a retried event) records once, and the second outcome is ``repeated``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.config import Settings
from app.domain import CheckinAnswer, CheckinSource, KRType, KRView, ReplyLine, ReplyOutcome
from app.domain import TrafficLight as Light
from app.models import KeyResult
from app.services import access
from app.services.checkins import record as checkins
from app.services.checkins.reply import Reading, ReplyKR, parse
from app.services.errors import InvalidValue
from app.services.okrs import mine
from app.services.okrs.cache import ReportCache
from app.services.tenancy import actors


def reply_krs(krs: Sequence[KRView]) -> list[ReplyKR]:
    return [ReplyKR(key=kr.key, title=kr.title, kr_type=kr.kr_type, unit=kr.unit,
                    last_status=kr.declared_status, checked_in=kr.last_checkin_at is not None)
            for kr in krs]


def _light(status: str | None) -> Light | None:
    return Light(status) if status in {t.value for t in Light} else None


def _problem(r: Reading, why: str) -> ReplyLine:
    return ReplyLine(text=r.line, problem=why)


def _line(kr: KeyResult, r: Reading, data: CheckinAnswer) -> ReplyLine:
    kr_type = KRType(kr.kr_type)
    previous = kr.manual_score if kr_type == KRType.MANUAL else kr.current_value
    value = data.score if kr_type == KRType.MANUAL else data.value
    if data.no_change or not (kr_type.takes_value or kr_type == KRType.MANUAL):
        value = previous
    return ReplyLine(text=r.line, kr_title=kr.title, kr_type=kr_type, unit=kr.unit,
                     value=value, previous=previous, status=_light(data.status),
                     status_kept=r.status_kept, note=data.note, no_change=data.no_change)


def _rows(session: Session, workspace_id: int, keys: Sequence[str]) -> dict[str, KeyResult]:
    if not keys:
        return {}
    return {kr.key: kr for kr in session.scalars(
        select(KeyResult).options(joinedload(KeyResult.objective))
        .where(KeyResult.workspace_id == workspace_id, KeyResult.key.in_(list(keys))))}


def open_krs(*, session: Session, workspace_id: int, slack_id: str, now: datetime,
             settings: Settings, cache: ReportCache | None = None) -> list[KRView]:
    """The KRs a person checks in on by reply: their open KRs in the current cycle."""
    report = mine.current_report(session=session, workspace_id=workspace_id, now=now,
                                 settings=settings.scoring, cache=cache)
    return mine.owned_krs(report, slack_id) if report is not None else []


def answer(*, session: Session, workspace_id: int, slack_id: str, text: str, now: datetime,
           settings: Settings, key_prefix: str,
           cache: ReportCache | None = None) -> ReplyOutcome:
    """Read ``text`` from ``slack_id``'s DM and record every line that reads unambiguously."""
    person = actors.find(session=session, workspace_id=workspace_id, slack_id=slack_id,
                         settings=settings)
    views: list[KRView] = []
    if person is not None and person.active:
        views = open_krs(session=session, workspace_id=workspace_id, slack_id=slack_id,
                         now=now, settings=settings, cache=cache)
    choices = tuple((kr.key, kr.title) for kr in views)
    parsed = parse(text, reply_krs(views))
    base = ReplyOutcome(choices=choices, help=parsed.help,
                        person_id=person.id if person is not None else None)
    if person is None or parsed.help:
        return replace(base, lines=tuple(_problem(r, r.problem or "") for r in
                                         parsed.readings))
    rows = _rows(session, workspace_id, [r.kr_key for r in parsed.readings
                                         if r.answer is not None and r.kr_key])
    led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=person.id)
    lines: list[ReplyLine] = []
    items: list[tuple[KeyResult, CheckinAnswer]] = []
    for r in parsed.readings:
        kr = rows.get(r.kr_key or "")
        if r.answer is None or kr is None:
            lines.append(_problem(r, r.problem or "you cannot check in on this key result"))
            continue
        if not access.can_edit_kr(person, kr, kr.objective, led):
            lines.append(_problem(r, "you cannot check in on this key result"))
            continue
        try:
            checkins.validate(kr, r.answer)
        except InvalidValue as exc:
            lines.append(_problem(r, exc.message))
            continue
        lines.append(_line(kr, r, r.answer))
        items.append((kr, r.answer))
    return replace(base, lines=tuple(lines),
                   repeated=_record(session, workspace_id, person.id, slack_id, items, now,
                                    key_prefix))


def _record(session: Session, workspace_id: int, person_id: int, slack_id: str,
            items: list[tuple[KeyResult, CheckinAnswer]], now: datetime,
            key_prefix: str) -> bool:
    """Record ``items``; True when this message had been recorded already."""
    if not items:
        return False
    written = checkins.record_batch(session=session, workspace_id=workspace_id, items=items,
                                    author_id=person_id, actor_label=f"slack:{slack_id}",
                                    source=CheckinSource.SLACK, now=now, key_prefix=key_prefix)
    return not written


__all__ = ["answer", "open_krs", "reply_krs"]
