"""``okr checkin KR --correct`` / ``--undo``: correct a check-in from the terminal.

The check-in corrected is the latest one in force on the KR (by ``--as`` when given), or the
one ``--checkin ID`` names (``okr show KR`` lists the ids). An edit keeps what it does not
change: only the options given replace the entry's value, status, confidence, note or
blockers. The rules are the Slack ones (app/services/checkins/corrections.py): only the latest
entry in force can be corrected, and Undo within 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import click

from app.commands.context import Ctx
from app.domain import CheckinAnswer, CheckinEntry, CheckinSource, KRType
from app.models import KeyResult
from app.services.checkins import corrections
from app.services.errors import InvalidValue, NotAllowed, NotFound

OPTIONS = {"value": "--value", "score": "--score", "status": "--status",
           "confidence": "--confidence", "note": "--note", "blockers": "--blockers"}


@dataclass(frozen=True, slots=True)
class Change:
    """What the command line asks to change (None: keep the entry's)."""

    value: float | None
    score: float | None
    status: str | None
    confidence: str | None
    note: str | None
    blockers: str | None

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.value, self.score, self.status, self.confidence,
                                       self.note, self.blockers))


T = TypeVar("T")


def _keep(new: T | None, old: T | None) -> T | None:
    return old if new is None else new


def _answer(kr: KeyResult, entry: CheckinEntry, change: Change) -> CheckinAnswer:
    manual = KRType(kr.kr_type) == KRType.MANUAL
    return CheckinAnswer(
        kr_key=kr.key,
        value=None if manual else _keep(change.value, entry.value),
        score=_keep(change.score, entry.score) if manual else None,
        status=_keep(change.status, entry.status),
        confidence=_keep(change.confidence, entry.confidence),
        note=_keep(change.note, entry.note), blockers=_keep(change.blockers, entry.blockers))


def correct(ctx: Ctx, kr: KeyResult, *, checkin_id: int | None, author_id: int | None,
            actor_label: str, change: Change, undo: bool, now: datetime,
            idempotency_key: str | None) -> str:
    """Edit or undo the check-in; returns the line to print (raises ClickException)."""
    if undo and not change.empty:
        raise click.ClickException("--undo takes no new values: give either --undo or the "
                                   "values to correct")
    if not undo and change.empty:
        raise click.ClickException("nothing to correct: give --value, --score, --done, "
                                   "--status, --confidence, --note or --blockers (or --undo)")
    ws_id = ctx.ws.id
    try:
        target = checkin_id if checkin_id is not None else corrections.latest_for(
            session=ctx.session, workspace_id=ws_id, kr=kr, author_id=author_id)
        entry = corrections.held(session=ctx.session, workspace_id=ws_id, checkin_id=target,
                                 actor=None, now=now)
        if entry.kr_key != kr.key:
            raise click.ClickException(f"check-in {checkin_id} is not on {kr.key}")
        if undo:
            done, recorded = corrections.undo(
                session=ctx.session, workspace_id=ws_id, checkin_id=target, actor=None,
                actor_label=actor_label, source=CheckinSource.CLI, now=now)
            return (f"undid check-in {_which(entry)} on {kr.key}: back to "
                    f"{_held(done)}" if recorded
                    else f"already undone: check-in {_which(entry)} on {kr.key}")
        done = corrections.correct(
            session=ctx.session, workspace_id=ws_id, checkin_id=target,
            answer=_answer(kr, entry, change), actor=None, actor_label=actor_label,
            source=CheckinSource.CLI, now=now, idempotency_key=idempotency_key)
    except (NotFound, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from None
    except InvalidValue as exc:
        option = OPTIONS.get(exc.field or "", "")
        raise click.ClickException(f"{option + ': ' if option else ''}{exc.message}") from None
    return f"corrected check-in {_which(entry)} on {kr.key}: now {_held(done)} (#{done.id})"


def _held(e: CheckinEntry) -> str:
    value = "no value" if e.value is None and e.score is None else \
        f"value {e.value:g}" if e.value is not None else f"score {e.score:.2f}"
    return f"{value}, status {e.status or 'none'}"


def _which(entry: CheckinEntry) -> str:
    return f"#{entry.id} ({entry.at:%Y-%m-%d %H:%M} UTC)"
