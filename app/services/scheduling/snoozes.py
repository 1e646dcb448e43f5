"""Snoozing a prompt ("Snooze 2 h", "Tomorrow") and skipping its week.

A snooze is a DM like the prompt: it waits for the person's working hours on a working day
(``WorkWeek.place``), so "tomorrow" on a Friday comes on their next working morning.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import cadence
from app.models import Delivery, Person, PromptSkip, Workspace
from app.services import audit
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.scheduling import workweeks
from app.services.scheduling.schedules import insert_ignore, zone


def _own_prompt(session: Session, ws_id: int, person: Person, delivery_id: int) -> Delivery:
    row = session.get(Delivery, delivery_id)
    if row is None or row.workspace_id != ws_id or row.kind not in ("prompt", "nudge"):
        raise NotFound("that check-in reminder no longer exists")
    if row.person_id != person.id:
        raise NotAllowed("this reminder belongs to someone else")
    return row


def base_occurrence(row: Delivery) -> str:
    """The scheduled local date a prompt, its snoozes and its nudge all belong to."""
    base = (row.payload or {}).get("base")
    return str(base) if base else row.occurrence.split("#", 1)[0]


def snooze(*, session: Session, ws: Workspace, person: Person, delivery_id: int, until: str,
           now: datetime) -> datetime:
    """Ask again later: ``until`` is ``"2h"`` or ``"tomorrow"`` (same local time as the prompt).

    Returns the new instant. One pending snooze per prompt: a second click (or a double
    click) returns the pending one instead of stacking another.
    """
    row = _own_prompt(session, ws.id, person, delivery_id)
    base = base_occurrence(row)
    tz = zone(person.tz)
    existing = session.scalars(select(Delivery).where(
        Delivery.workspace_id == ws.id, Delivery.kind == "prompt",
        Delivery.target == row.target, Delivery.occurrence.startswith(f"{base}#snooze"))).all()
    pending = [d for d in existing if d.state == "pending" and d.due_at > now]
    if pending:
        return pending[0].due_at
    week = workweeks.week_for(session, ws, person)
    if until == "2h":
        at = now + timedelta(hours=2)
    elif until == "tomorrow":
        # The next working day at the prompt's local time.
        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        day = week.next_working(tomorrow) or tomorrow
        at = cadence.localize(day, row.due_at.astimezone(tz).time(), tz)
    else:
        raise InvalidValue("snooze for 2h or until tomorrow", field="until")
    at = week.place(at, tz) or at  # a DM waits for working hours
    occurrence = f"{base}#snooze{len(existing) + 1}"
    stmt = insert_ignore(session, Delivery).values(
        workspace_id=ws.id, kind="prompt", target=row.target, occurrence=occurrence, due_at=at,
        state="pending", attempts=0, created_at=now, person_id=person.id, cycle_id=row.cycle_id,
        tz=person.tz, payload={"base": base, "snoozed_from": row.id})
    session.execute(stmt)
    audit.record(session=session, workspace_id=ws.id, actor_id=person.id,
                 actor_label=f"slack:{person.slack_id}", action="prompt.snooze",
                 subject_type="delivery", subject_key=str(row.id), now=now,
                 after={"until": at.isoformat(), "occurrence": occurrence})
    return at


def skip_week(*, session: Session, ws: Workspace, person: Person, delivery_id: int,
              now: datetime) -> date:
    """No more prompts, snoozes or nudges in the prompt's week. Returns that week's Monday."""
    row = _own_prompt(session, ws.id, person, delivery_id)
    week = cadence.week_of(date.fromisoformat(base_occurrence(row)))
    session.execute(insert_ignore(session, PromptSkip).values(
        workspace_id=ws.id, person_id=person.id, week_of=week, created_at=now))
    audit.record(session=session, workspace_id=ws.id, actor_id=person.id,
                 actor_label=f"slack:{person.slack_id}", action="prompt.skip_week",
                 subject_type="person", subject_key=person.slack_id, now=now,
                 after={"week_of": week.isoformat()})
    return week
