"""What people and admins do at the end of a cycle, by person id and cycle name: submit scores
and reflections, open scoring, close (and reopen) the cycle, start the next one, build the
report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CyclePhase
from app.models import Cycle
from app.services.okrs import cycles
from app.services.okrs.mine import today_for
from app.services.review import next_cycle, reflections, rounds
from app.services.review import report as report_service
from app.services.review import scores as reviews
from app.services.review.forms import reflection_cycle, review_cycle
from app.services.review.report import Report
from app.services.review.scores import ScoreInput
from app.services.tenancy.actors import person_row


@dataclass(frozen=True, slots=True)
class ReviewOpened:
    cycle_name: str
    deadline: date
    pending: int  # people who still owe scores


@dataclass(frozen=True, slots=True)
class CarriedForward:
    source: str
    cycle: str
    start: date
    end: date
    created: bool
    copied: list[tuple[str, str]]  # (old key, new key)
    already: int  # carried by an earlier run


def submit_scores(*, session: Session, workspace_id: int, person_id: int,
                  cycle_name: str | None, final: bool, entries: Sequence[ScoreInput],
                  now: datetime, as_admin: bool = False) -> tuple[str, int]:
    """Self scores (or, ``final``, a lead's final scores) for the cycle in review; returns the
    cycle's name and how many score rows were written."""
    cycle = review_cycle(session=session, workspace_id=workspace_id, name=cycle_name)
    person = person_row(session=session, workspace_id=workspace_id, person_id=person_id)
    if final:
        saved = reviews.submit_final_scores(session=session, workspace_id=workspace_id,
                                            cycle=cycle, person=person, entries=entries,
                                            now=now, as_admin=as_admin)
    else:
        saved = reviews.submit_self_scores(session=session, workspace_id=workspace_id,
                                           cycle=cycle, person=person, entries=entries,
                                           now=now)
    return cycle.name, len(saved)


def reflect(*, session: Session, workspace_id: int, person_id: int, cycle_name: str | None,
            now: datetime, objective_key: str | None, worked: str | None,
            did_not_work: str | None, carry_forward: str | None) -> str:
    """Record a reflection; returns the cycle's name."""
    cycle = reflection_cycle(session=session, workspace_id=workspace_id, now=now,
                             name=cycle_name)
    reflections.record(session=session, workspace_id=workspace_id, cycle=cycle,
                       person=person_row(session=session, workspace_id=workspace_id,
                                         person_id=person_id),
                       now=now, objective_key=objective_key, worked=worked,
                       did_not_work=did_not_work, carry_forward=carry_forward)
    return cycle.name


def cycle_report(*, session: Session, workspace_id: int, now: datetime,
                 settings: ScoringSettings, cycle_name: str | None) -> Report:
    """The end-of-cycle report for a channel: private objectives are never included."""
    today = today_for(session, workspace_id, now)
    cycle = reflection_cycle(session=session, workspace_id=workspace_id, now=now,
                             name=cycle_name)
    return report_service.build(session=session, workspace_id=workspace_id, cycle=cycle,
                                today=today, now=now, settings=settings, include_private=False)


@dataclass(frozen=True, slots=True)
class AdminStep:
    """Who moves a cycle on, where and when (the audit log names them)."""

    workspace_id: int
    actor_id: int
    actor_label: str
    now: datetime
    settings: ScoringSettings


def _today_and_cycle(session: Session, step: AdminStep, name: str | None) -> tuple[date, Cycle]:
    today = today_for(session, step.workspace_id, step.now)
    return today, reflection_cycle(session=session, workspace_id=step.workspace_id,
                                   now=step.now, name=name)


def open_review(*, session: Session, step: AdminStep, cycle_name: str | None,
                deadline: date | None) -> ReviewOpened:
    """Move the cycle to review; scoring DMs go out with the next scheduler tick."""
    today, cycle = _today_and_cycle(session, step, cycle_name)
    rnd = reviews.open_review(session=session, workspace_id=step.workspace_id, cycle=cycle,
                              today=today, now=step.now, settings=step.settings,
                              actor_id=step.actor_id, actor_label=step.actor_label,
                              deadline=deadline)
    pending = reviews.pending_scorers(session=session, workspace_id=step.workspace_id,
                                      cycle=cycle)
    return ReviewOpened(cycle.name, rnd.deadline, len(pending))


def close(*, session: Session, step: AdminStep, cycle_name: str | None) -> str:
    """Close the cycle; returns its name."""
    today, cycle = _today_and_cycle(session, step, cycle_name)
    reviews.close_cycle(session=session, workspace_id=step.workspace_id, cycle=cycle,
                        today=today, now=step.now, settings=step.settings,
                        actor_id=step.actor_id, actor_label=step.actor_label)
    return cycle.name


def reopen(*, session: Session, step: AdminStep, cycle_name: str) -> tuple[str, CyclePhase]:
    """Reopen a closed cycle; returns its name and the phase it is back in."""
    today = today_for(session, step.workspace_id, step.now)
    cycle = cycles.by_name(session=session, workspace_id=step.workspace_id, name=cycle_name)
    phase = rounds.reopen_cycle(session=session, workspace_id=step.workspace_id, cycle=cycle,
                                today=today, now=step.now, actor_id=step.actor_id,
                                actor_label=step.actor_label)
    return cycle.name, phase


def carry_forward(*, session: Session, step: AdminStep,
                  source_name: str | None) -> CarriedForward:
    """Create the next cycle and carry unfinished objectives into it as drafts (from the named
    cycle, else from the latest one in review or closed)."""
    today = today_for(session, step.workspace_id, step.now)
    source = reflection_cycle(session=session, workspace_id=step.workspace_id, now=step.now,
                              name=source_name) if source_name is not None else None
    res = next_cycle.carry_forward(session=session, workspace_id=step.workspace_id,
                                   today=today, now=step.now, settings=step.settings,
                                   actor_label=step.actor_label, actor_id=step.actor_id,
                                   source=source)
    return CarriedForward(source=res.source.name, cycle=res.cycle.name,
                          start=res.cycle.start_date, end=res.cycle.end_date,
                          created=res.created, copied=list(res.copied),
                          already=len(res.already))
