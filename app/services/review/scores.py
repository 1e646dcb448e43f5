"""End-of-cycle scoring: self scores and final scores, and who still owes them.

Every score is a new row in ``reviews`` (see :mod:`~app.services.review.ledger`, which also
reads the scores in force). Final scores are what reports use; a final score that differs
from the self score needs a reason (kept in the row's ``evidence``). Opening and closing the
review round, with its computed snapshot, is :mod:`~app.services.review.rounds`; its names
are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CyclePhase, ReviewKind
from app.models import Cycle, KeyResult, Objective, Person, Review
from app.services import access, audit
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.review.ledger import EPS as _EPS
from app.services.review.ledger import KRScores, history, scores
from app.services.review.rounds import (
    REVIEW_DAYS_AFTER_END,
    close_cycle,
    default_deadline,
    open_review,
    review_round,
    snapshot_computed,
)

__all__ = [
    "MAX_NOTE",
    "REVIEW_DAYS_AFTER_END",
    "KRScores",
    "PendingPerson",
    "ScoreInput",
    "check_score",
    "close_cycle",
    "default_deadline",
    "history",
    "open_review",
    "pending_scorers",
    "review_round",
    "scores",
    "snapshot_computed",
    "submit_final_scores",
    "submit_self_scores",
]

MAX_NOTE = 3000


@dataclass(frozen=True, slots=True)
class ScoreInput:
    """One KR's answer in a scoring form: ``note`` is the evidence (self) or reason (final)."""

    kr_key: str
    score: float
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PendingPerson:
    person_id: int
    slack_id: str
    name: str
    tz: str
    self_krs: tuple[str, ...] = ()
    final_krs: tuple[str, ...] = ()


@dataclass
class _Pending:
    self_krs: list[str] = field(default_factory=list)
    final_krs: list[str] = field(default_factory=list)


def check_score(value: float, *, field: str) -> float:
    """A score between 0.0 and 1.0 in steps of 0.1, returned rounded to one decimal."""
    if not math.isfinite(value) or not -_EPS <= value <= 1.0 + _EPS:
        raise InvalidValue("a score is between 0.0 and 1.0", field=field)
    tenths = round(value * 10)
    if abs(value * 10 - tenths) > 1e-6:
        raise InvalidValue("scores go in steps of 0.1 (0.0, 0.1 ... 1.0)", field=field)
    return tenths / 10


def _cycle_krs(session: Session, workspace_id: int, cycle: Cycle,
               keys: Sequence[str]) -> dict[str, KeyResult]:
    krs = {
        kr.key: kr
        for kr in session.scalars(
            select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id).where(
                KeyResult.workspace_id == workspace_id, Objective.cycle_id == cycle.id,
                KeyResult.key.in_(list(keys)),
            )
        )
    }
    for key in keys:
        if key not in krs:
            raise NotFound(f"no key result {key!r} in {cycle.name}")
    return krs


def _check_open(cycle: Cycle) -> None:
    if cycle.phase != CyclePhase.REVIEW.value:
        raise NotAllowed(f"scoring for {cycle.name} is not open (the cycle is {cycle.phase})")


def _check_note(note: str | None, *, field: str) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidValue(f"keep it under {MAX_NOTE} characters", field=field)
    return text or None


def submit_self_scores(
    *, session: Session, workspace_id: int, cycle: Cycle, person: Person,
    entries: Sequence[ScoreInput], now: datetime,
) -> list[Review]:
    """Record a KR owner's self scores with evidence. All entries are checked before any is
    written; an entry equal to the score in force adds nothing (double submits are harmless).

    Errors name the field ``score:<kr>`` or ``evidence:<kr>``.
    """
    _check_open(cycle)
    krs = _cycle_krs(session, workspace_id, cycle, [e.kr_key for e in entries])
    checked = []
    for e in entries:
        kr = krs[e.kr_key]
        if access.self_scorer_id(kr) != person.id:
            raise NotAllowed(f"{kr.key} is not yours to self-score")
        checked.append((kr, check_score(e.score, field=f"score:{kr.key}"),
                        _check_note(e.note, field=f"evidence:{kr.key}")))
    current = scores(session=session, workspace_id=workspace_id, cycle=cycle)
    return _write(session, workspace_id, cycle, person, ReviewKind.SELF, checked, current, now)


def submit_final_scores(
    *, session: Session, workspace_id: int, cycle: Cycle, person: Person,
    entries: Sequence[ScoreInput], now: datetime, as_admin: bool = False,
) -> list[Review]:
    """Record a lead's final scores. A final score that differs from the self score (or from
    the computed score when there is no self score) needs a reason (field ``reason:<kr>``).
    """
    _check_open(cycle)
    krs = _cycle_krs(session, workspace_id, cycle, [e.kr_key for e in entries])
    current = scores(session=session, workspace_id=workspace_id, cycle=cycle)
    leads = access.leads_by_objective(session, workspace_id, {k.objective_id for k in krs.values()})
    checked = []
    for e in entries:
        kr = krs[e.kr_key]
        if not as_admin and person.id not in leads.get(kr.objective_id, ()):
            raise NotAllowed(f"only the team's lead or an admin sets the final score of {kr.key}")
        score = check_score(e.score, field=f"score:{kr.key}")
        reason = _check_note(e.note, field=f"reason:{kr.key}")
        have = current.get(kr.key)
        baseline = None if have is None else (
            have.self_score if have.self_score is not None else have.computed)
        if reason is None and baseline is not None and abs(score - baseline) > _EPS:
            against = "self" if have is not None and have.self_score is not None else "computed"
            raise InvalidValue(f"say why the final score differs from the {against} score "
                               f"({baseline:.1f})", field=f"reason:{kr.key}")
        checked.append((kr, score, reason))
    return _write(session, workspace_id, cycle, person, ReviewKind.FINAL, checked, current, now)


def _write(
    session: Session, workspace_id: int, cycle: Cycle, person: Person, kind: ReviewKind,
    checked: list[tuple[KeyResult, float, str | None]], current: dict[str, KRScores],
    now: datetime,
) -> list[Review]:
    rows = []
    for kr, score, note in checked:
        have = current.get(kr.key)
        old = None if have is None else (have.self_score if kind == ReviewKind.SELF else have.final)
        old_note = None if have is None else (have.evidence if kind == ReviewKind.SELF
                                              else have.reason)
        if old is not None and abs(old - score) < _EPS and old_note == note:
            continue
        row = Review(workspace_id=workspace_id, kr_id=kr.id, cycle_id=cycle.id,
                     kind=kind.value, score=score, author_id=person.id, evidence=note, at=now)
        session.add(row)
        rows.append(row)
        audit.record(session=session, workspace_id=workspace_id, actor_id=person.id,
                     actor_label=f"slack:{person.slack_id}", action=f"review.{kind.value}",
                     subject_type="key_result", subject_key=kr.key, now=now,
                     before={"score": old}, after={"score": score, "note": note})
    session.flush()
    return rows


def pending_scorers(*, session: Session, workspace_id: int, cycle: Cycle) -> list[PendingPerson]:
    """Who still owes scores: owners without a self score, leads without a final score.

    Only active people are listed; drafts do not count.
    """
    krs = session.scalars(
        select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id).where(
            KeyResult.workspace_id == workspace_id, Objective.cycle_id == cycle.id,
            Objective.is_draft.is_(False),
        ).order_by(Objective.position, Objective.id, KeyResult.position, KeyResult.id)
    ).all()
    current = scores(session=session, workspace_id=workspace_id, cycle=cycle)
    leads = access.leads_by_objective(session, workspace_id, {k.objective_id for k in krs})
    owed: dict[int, _Pending] = {}
    for kr in krs:
        have = current.get(kr.key)
        scorer = access.self_scorer_id(kr)
        if scorer is not None and (have is None or have.self_score is None):
            owed.setdefault(scorer, _Pending()).self_krs.append(kr.key)
        reviewer = access.reviewer(leads.get(kr.objective_id, ()), scorer)
        if reviewer is not None and (have is None or have.final is None):
            owed.setdefault(reviewer, _Pending()).final_krs.append(kr.key)
    if not owed:
        return []
    people = session.scalars(
        select(Person).where(Person.workspace_id == workspace_id, Person.id.in_(list(owed)),
                             Person.active.is_(True)).order_by(Person.name, Person.id)
    ).all()
    return [
        PendingPerson(person_id=p.id, slack_id=p.slack_id, name=p.name, tz=p.tz,
                      self_krs=tuple(owed[p.id].self_krs), final_krs=tuple(owed[p.id].final_krs))
        for p in people
    ]
