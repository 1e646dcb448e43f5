"""A person's next prompts as the scheduler will send them: moved off non-working days, held
to working hours, with the reason of each move and the skip reasons known today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import cadence, placement
from app.calendar.workweek import MAX_SEARCH_DAYS, WorkWeek
from app.models import Delivery, Person, Workspace
from app.services.scheduling import schedules, skips, workweeks


@dataclass(frozen=True, slots=True)
class Upcoming:
    at: datetime  # UTC
    local: datetime  # in the person's zone
    skip_reason: str | None  # why it would not go out, as far as known today
    snoozed: bool = False
    moved_from: date | None = None  # the scheduled local date, when it moved to another day
    move_reason: str | None = None  # why it moved ("Easter Monday", "outside working hours")


def _scheduled(session: Session, ws: Workspace, person: Person, week: WorkWeek,
               now: datetime, count: int) -> list[Upcoming]:
    tz = schedules.zone(person.tz)
    plans = schedules.checkin_plans(session=session, ws=ws, person_ids=[person.id])
    if not plans:
        return []
    cycles = schedules.cycles_of(session=session, workspace_id=ws.id)
    anchor = schedules.anchor_for(cycles)
    coming = cadence.upcoming(plans[0].schedule, tz, now, count, anchor=anchor)
    if not coming:
        return []
    until = coming[-1].at + timedelta(days=MAX_SEARCH_DAYS + 2)
    out: list[Upcoming] = []
    for p in placement.placed_occurrences(plans[0].schedule, tz, week, now, until,
                                          anchor=anchor)[:count]:
        day = p.occurrence.local_date
        local = p.at.astimezone(tz)
        reason = p.skip
        if reason is None:
            facts, _ = schedules.prompt_facts(session=session, ws=ws, person=person, day=day,
                                              cycles=cycles)
            reason = skips.prompt_skip_reason(facts, local_date=day, due_at=p.at,
                                              checked_in_days=0, sent_on=local.date())
        moved = p.moved and local.date() != day
        out.append(Upcoming(p.at, local, reason, moved_from=day if moved else None,
                            move_reason=p.reason if p.moved else None))
    return out


def upcoming_prompts(*, session: Session, ws: Workspace, person: Person, now: datetime,
                     count: int = 3, week: WorkWeek | None = None) -> list[Upcoming]:
    """The person's next prompts (scheduled and snoozed), in order, with known skip reasons.

    "Checked in recently" depends on what happens before then, so it is not predicted.
    """
    week = week or workweeks.week_for(session, ws, person)
    tz = schedules.zone(person.tz)
    out = _scheduled(session, ws, person, week, now, count)
    snoozed = session.scalars(select(Delivery.due_at).where(
        Delivery.workspace_id == ws.id, Delivery.person_id == person.id,
        Delivery.kind == "prompt", Delivery.state == "pending", Delivery.due_at > now,
        Delivery.occurrence.contains("#snooze")))
    out += [Upcoming(at, at.astimezone(tz), None, snoozed=True) for at in snoozed]
    return sorted(out, key=lambda u: u.at)[:count]
