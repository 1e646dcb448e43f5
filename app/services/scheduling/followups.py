"""The follow-ups still to come for one person's last prompt, as ``/okr next`` shows them:
"Nudge 1 Tue 10:00 if not updated", "your lead hears Wed 11 Mar ...".

A prediction from the facts as they are now; the scheduler decides again when each is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import ladder as timing
from app.config import Settings
from app.models import Delivery, Person, Workspace
from app.services.scheduling import ladder
from app.services.scheduling.schedules import zone
from app.services.scheduling.workweeks import week_for


@dataclass(frozen=True, slots=True)
class Followup:
    rank: int  # 1, 2 ... a nudge; 0: the lead's "waiting on" DM
    at: datetime  # in the person's zone
    of: int  # how many nudges the ladder has


@dataclass(frozen=True, slots=True)
class Followups:
    steps: tuple[Followup, ...]
    nudges_on: bool
    waiting: int  # KRs not updated since the last prompt


def upcoming(*, session: Session, ws: Workspace, person: Person, now: datetime,
             settings: Settings, before: datetime | None = None) -> Followups:
    """What follows the person's latest prompt while its KRs stay as they are; nudges due at
    or after ``before`` (the next prompt, which has its own ladder) are left out."""
    nudges_on = bool(person.nudges) and settings.max_dms_per_week > 0
    runs = ladder.prompt_runs(session, ws.id, since=now - timing.MAX_SPAN, until=now,
                              person_ids=[person.id]).get(person.slack_id, [])
    sent = [r for r in runs if r.first_sent is not None and r.last_due is not None]
    if not sent or sent[-1].cycle_id is None:
        return Followups((), nudges_on, 0)
    run = sent[-1]
    first, last, cycle_id = run.first_sent, run.last_due, run.cycle_id
    assert first is not None and last is not None and cycle_id is not None
    krs = ladder.open_krs(session, ws.id, cycle_id, owner_ids=[person.id])
    waiting = [kr for kr in krs if kr.last_checkin_at is None or kr.last_checkin_at < first]
    if not waiting:
        return Followups((), nudges_on, 0)
    tz, week = zone(person.tz), week_for(session, ws, person)
    done = {int((p or {}).get("step") or 1) for p in session.scalars(
        select(Delivery.payload).where(Delivery.workspace_id == ws.id, Delivery.kind == "nudge",
                                       Delivery.target == person.slack_id,
                                       Delivery.due_at > now - timing.MAX_SPAN))
        if (p or {}).get("base") == run.base}
    of = len(settings.nudge_after_days)
    steps = [timing_step for timing_step in (
        Followup(s.rank, s.at.astimezone(tz), of)
        for s in timing.nudge_steps(last, tz, week, settings.nudge_after_days)
        if nudges_on and s.at > now and s.rank not in done and (before is None or s.at < before))]
    if settings.escalate_after_days:
        at = timing.step_at(last, tz, week, settings.escalate_after_days)
        leads = ladder.leads_waiting(session=session, ws_id=ws.id, cycle_id=cycle_id,
                                     runs={person.id: run})
        if at is not None and at > now and leads.get(person.id):
            steps.append(Followup(0, at.astimezone(tz), of))
    return Followups(tuple(steps), nudges_on, len(waiting))
