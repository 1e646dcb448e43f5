"""A cycle's review round: opening it (the cycle moves to review and its computed scores are
snapshotted), the deadline, and closing the cycle."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Unpack

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.workweek import WorkWeek
from app.domain import CyclePhase, ReviewKind
from app.models import Cycle, KeyResult, Objective, Review, ReviewRound, Workspace
from app.services import audit
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.okrs import report as okrs
from app.services.review import ledger
from app.services.scheduling import workweeks

# GitLab finalises scores one week after the quarter ends: reminders stop then.
REVIEW_DAYS_AFTER_END = 7


def review_round(*, session: Session, workspace_id: int, cycle: Cycle) -> ReviewRound | None:
    return session.scalars(
        select(ReviewRound).where(ReviewRound.workspace_id == workspace_id,
                                  ReviewRound.cycle_id == cycle.id)
    ).first()


def default_deadline(cycle: Cycle, today: date, week: WorkWeek | None = None) -> date:
    """A week after the end (or after today), on the organisation's next working day when
    that falls on a weekend or a holiday: people keep at least the whole week."""
    day = max(cycle.end_date, today) + timedelta(days=REVIEW_DAYS_AFTER_END)
    return (week.next_working(day) or day) if week is not None else day


def open_review(
    *, actor_id: int | None, actor_label: str, deadline: date | None = None,
    **read: Unpack[okrs.ReadArgs],
) -> ReviewRound:
    """Move a cycle to review and snapshot its computed scores. Safe to repeat."""
    session, workspace_id, cycle, today = (read["session"], read["workspace_id"], read["cycle"],
                                           read["today"])
    if cycle.workspace_id != workspace_id:
        raise NotFound("unknown cycle")
    if cycle.phase == CyclePhase.CLOSED.value:
        raise NotAllowed(f"{cycle.name} is closed; reopen it with "
                         f"`okr cycle reopen {cycle.name}` first")
    if deadline is not None and deadline < today:
        raise InvalidValue(f"the deadline {deadline.isoformat()} is in the past", field="deadline")
    _move_to(read, CyclePhase.REVIEW, actor_id=actor_id, actor_label=actor_label)
    snapshot_computed(**read)
    rnd = review_round(session=session, workspace_id=workspace_id, cycle=cycle)
    if rnd is None:
        ws = session.get(Workspace, workspace_id)
        week = workweeks.org_week(ws) if ws is not None else None
        rnd = ReviewRound(workspace_id=workspace_id, cycle_id=cycle.id, opened_at=read["now"],
                          opened_by_id=actor_id,
                          deadline=deadline or default_deadline(cycle, today, week))
        session.add(rnd)
    elif deadline is not None:
        rnd.deadline = deadline
    session.flush()
    return rnd


def close_cycle(
    *, actor_id: int | None, actor_label: str, **read: Unpack[okrs.ReadArgs],
) -> ReviewRound:
    """Close a cycle. A cycle closed without a review gets its round (and computed snapshot)
    now, so its retrospective still goes out."""
    session, workspace_id, cycle = read["session"], read["workspace_id"], read["cycle"]
    rnd = review_round(session=session, workspace_id=workspace_id, cycle=cycle)
    if rnd is None:
        snapshot_computed(**read)
        rnd = ReviewRound(workspace_id=workspace_id, cycle_id=cycle.id, opened_at=read["now"],
                          opened_by_id=actor_id, deadline=read["today"])
        session.add(rnd)
    _move_to(read, CyclePhase.CLOSED, actor_id=actor_id, actor_label=actor_label)
    session.flush()
    return rnd


def reopen_cycle(
    *, session: Session, workspace_id: int, cycle: Cycle, today: date, now: datetime,
    actor_id: int | None, actor_label: str,
) -> CyclePhase:
    """Reopen a closed cycle (audited as ``cycle.reopen``); returns the phase it is in now.

    By the organisation's date: a cycle whose end date has passed goes back to ``review``
    (its round and scores are kept; check-ins are allowed again, scoring reopens), one that
    has not ended yet goes back to ``active`` (prompts resume). NotAllowed unless it is closed.
    """
    if cycle.workspace_id != workspace_id:
        raise NotFound("unknown cycle")
    if cycle.phase != CyclePhase.CLOSED.value:
        raise NotAllowed(f"{cycle.name} is not closed (it is in {cycle.phase})")
    phase = CyclePhase.REVIEW if today > cycle.end_date else CyclePhase.ACTIVE
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor_id,
                 actor_label=actor_label, action="cycle.reopen", subject_type="cycle",
                 subject_key=cycle.name, now=now, before={"phase": cycle.phase},
                 after={"phase": phase.value})
    cycle.phase = phase.value
    session.flush()
    return phase


def _move_to(read: okrs.ReadArgs, phase: CyclePhase, *, actor_id: int | None,
             actor_label: str) -> None:
    """Set the cycle's phase (audited); nothing when it is in that phase already."""
    cycle = read["cycle"]
    if cycle.phase == phase.value:
        return
    audit.record(session=read["session"], workspace_id=read["workspace_id"], actor_id=actor_id,
                 actor_label=actor_label, action="cycle.phase", subject_type="cycle",
                 subject_key=cycle.name, now=read["now"], before={"phase": cycle.phase},
                 after={"phase": phase.value})
    cycle.phase = phase.value


def snapshot_computed(**read: Unpack[okrs.ReadArgs]) -> int:
    """Append a ``computed`` row for every KR whose computed score changed; returns the count."""
    session, workspace_id, cycle = read["session"], read["workspace_id"], read["cycle"]
    report = okrs.cycle_report(**read)
    ids = _kr_ids(session, workspace_id, cycle)
    current = ledger.scores(session=session, workspace_id=workspace_id, cycle=cycle)
    added = 0
    for objective in report.objectives:
        for kr in objective.key_results:
            previous = current.get(kr.key)
            if previous is not None and previous.computed is not None \
                    and abs(previous.computed - kr.score) < ledger.EPS:
                continue
            session.add(Review(workspace_id=workspace_id, kr_id=ids[kr.key], cycle_id=cycle.id,
                               kind=ReviewKind.COMPUTED.value, score=kr.score, at=read["now"]))
            added += 1
    session.flush()
    return added


def _kr_ids(session: Session, workspace_id: int, cycle: Cycle) -> dict[str, int]:
    return {
        key: kid
        for kid, key in session.execute(
            select(KeyResult.id, KeyResult.key)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .where(KeyResult.workspace_id == workspace_id, Objective.cycle_id == cycle.id)
        )
    }
