"""The planning timeline by workspace id, as ``/okr timeline`` and ``/okr remind`` use it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.calendar import timeline
from app.services.okrs import cycles
from app.services.scheduling import timeline as rules
from app.services.tenancy.actors import workspace_and_person


@dataclass(frozen=True)
class Timeline:
    preset: str | None
    coming: list[tuple[timeline.Rule, str, date]]  # (rule, cycle name, local date)


def overview(*, session: Session, workspace_id: int, person_id: int, now: datetime,
             preset: str | None = None, actor_label: str = "") -> Timeline:
    """The reminders of the next 120 days; first switches to ``preset`` when given."""
    ws, _ = workspace_and_person(session=session, workspace_id=workspace_id,
                                 person_id=person_id)
    if preset is not None:
        rules.set_preset(session=session, ws=ws, preset=preset, actor_label=actor_label,
                         now=now)
    coming = rules.upcoming_reminders(session=session, ws=ws, today=cycles.org_today(ws, now))
    return Timeline(ws.timeline_preset, coming)


def save_rule(*, session: Session, workspace_id: int, person_id: int, rule: timeline.Rule,
              actor_label: str, now: datetime) -> None:
    ws, _ = workspace_and_person(session=session, workspace_id=workspace_id,
                                 person_id=person_id)
    rules.save_rule(session=session, ws=ws, rule=rule, actor_label=actor_label, now=now)


def remove_rule(*, session: Session, workspace_id: int, person_id: int, key: str,
                actor_label: str, now: datetime) -> None:
    ws, _ = workspace_and_person(session=session, workspace_id=workspace_id,
                                 person_id=person_id)
    rules.remove_rule(session=session, ws=ws, key=key, actor_label=actor_label, now=now)
