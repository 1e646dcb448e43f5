""""No change": one tap in the DM prompt checks in on every KR the prompt is about.

Each of the person's open KRs that has an earlier check-in gets a check-in repeating its last
value and the status its owner last declared (the pace suggestion where none was ever
declared, as the modal would preselect), with the note "no change". A KR never checked in has
no last value to repeat: it is skipped, and the outcome says so. Everything goes through the
check-in form service (the same checks as a modal submission) and so through the one writer,
``record.record_batch``; ``key_prefix`` (derived from the prompt) makes a double tap record
once. Who may check in is decided here, from the verified user, never from the button.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource, KRView
from app.services.access import Principal
from app.services.checkins import forms
from app.services.errors import NotFound
from app.services.okrs import mine
from app.services.okrs.cache import ReportCache

NOTE = "no change"


@dataclass(frozen=True)
class NoChangeOutcome:
    # (KR title, status, score) as ``forms.recorded`` gives them: recorded now, or by an
    # earlier tap on the same prompt.
    recorded: tuple[tuple[str, str | None, float | None], ...] = ()
    skipped: tuple[KRView, ...] = ()  # KRs never checked in: no last value to repeat
    errors: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _about(krs: Sequence[KRView], wanted: Sequence[str]) -> list[KRView]:
    """The KRs the prompt is about: those it named that are still open and mine (all of my
    open KRs when it named none)."""
    if not wanted:
        return list(krs)
    return [kr for kr in krs if kr.key in set(wanted)]


def _answer(kr: KRView) -> CheckinAnswer:
    status = kr.declared_status or kr.suggested_status
    return CheckinAnswer(kr_key=kr.key, status=status.value, note=NOTE, no_change=True)


def repeat_last(*, session: Session, workspace_id: int, actor: Principal, slack_id: str,
                actor_label: str, kr_keys: Sequence[str], key_prefix: str, now: datetime,
                settings: ScoringSettings, cache: ReportCache | None = None) -> NoChangeOutcome:
    """Check in "no change" on the open KRs of ``slack_id`` (the verified user) named by
    ``kr_keys`` (all of them when empty). Records nothing when any answer is refused."""
    report = mine.current_report(session=session, workspace_id=workspace_id, now=now,
                                 settings=settings, cache=cache)
    if report is None:
        raise NotFound("there is no current cycle to check in on")
    krs = _about(mine.owned_krs(report, slack_id), kr_keys)
    repeatable = [kr for kr in krs if kr.last_checkin_at is not None]
    skipped = tuple(kr for kr in krs if kr.last_checkin_at is None)
    if not repeatable:
        return NoChangeOutcome(skipped=skipped)
    outcome = forms.submit(session=session, workspace_id=workspace_id, actor=actor,
                           actor_label=actor_label, answers=[_answer(kr) for kr in repeatable],
                           now=now, key_prefix=key_prefix, source=CheckinSource.SLACK)
    if not outcome.ok:
        return NoChangeOutcome(skipped=skipped, errors=outcome.errors)
    rows = forms.recorded(session=session, workspace_id=workspace_id, key_prefix=key_prefix,
                          kr_keys=[kr.key for kr in repeatable])
    return NoChangeOutcome(recorded=tuple(rows), skipped=skipped)
