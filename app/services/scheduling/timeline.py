"""The planning timeline's administration: the preset, custom rules, what fires next."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import timeline
from app.domain import CycleWindow
from app.models import TimelineRule, Workspace
from app.services import audit
from app.services.errors import InvalidValue, NotFound
from app.services.scheduling.schedules import cycles_of


def set_preset(*, session: Session, ws: Workspace, preset: str, actor_label: str,
               now: datetime) -> None:
    if preset not in timeline.PRESETS:
        raise InvalidValue(f"{preset!r} is not a timeline preset (use "
                           f"{', '.join(timeline.PRESETS)})", field="preset")
    before = ws.timeline_preset
    ws.timeline_preset = preset
    audit.record(session=session, workspace_id=ws.id, actor_label=actor_label,
                 action="timeline.preset", subject_type="workspace", subject_key=str(ws.id),
                 now=now, before={"preset": before}, after={"preset": preset})


def save_rule(*, session: Session, ws: Workspace, rule: timeline.Rule, actor_label: str,
              now: datetime) -> TimelineRule:
    """Add a custom rule, or replace the one with the same key."""
    try:
        timeline.check(rule)
    except timeline.RuleError as exc:
        raise InvalidValue(exc.message, field=exc.field) from None
    if any(r.key == rule.key for preset in timeline.PRESETS.values() for r in preset):
        raise InvalidValue(f"{rule.key!r} is the name of a preset rule", field="key")
    problem = timeline.check_text(rule.text)
    if problem:
        raise InvalidValue(problem, field="text")
    row = session.scalars(select(TimelineRule).where(
        TimelineRule.workspace_id == ws.id, TimelineRule.key == rule.key)).first()
    if row is None:
        row = TimelineRule(workspace_id=ws.id, key=rule.key, created_at=now)
        session.add(row)
    row.anchor, row.offset_days, row.audience = rule.anchor, rule.offset_days, rule.audience
    row.at, row.text, row.enabled = rule.at.strftime("%H:%M"), rule.text, True
    row.channel, row.usergroup = rule.channel, rule.usergroup
    session.flush()
    audit.record(session=session, workspace_id=ws.id, actor_label=actor_label,
                 action="timeline.rule", subject_type="timeline_rule", subject_key=rule.key,
                 now=now, after={"anchor": rule.anchor, "offset_days": rule.offset_days,
                                 "audience": rule.audience})
    return row


def remove_rule(*, session: Session, ws: Workspace, key: str, actor_label: str,
                now: datetime) -> None:
    row = session.scalars(select(TimelineRule).where(
        TimelineRule.workspace_id == ws.id, TimelineRule.key == key)).first()
    if row is None:
        raise NotFound(f"no custom timeline rule {key!r}")
    session.delete(row)
    audit.record(session=session, workspace_id=ws.id, actor_label=actor_label,
                 action="timeline.rule_removed", subject_type="timeline_rule", subject_key=key,
                 now=now)


def upcoming_reminders(*, session: Session, ws: Workspace, today: date,
                       days: int = 120) -> list[tuple[timeline.Rule, str, date]]:
    """(rule, cycle name, local date) of the rules still to fire in the next ``days``."""
    rules = [*timeline.preset(ws.timeline_preset), *[
        timeline.Rule(key=r.key, anchor=r.anchor, offset_days=r.offset_days,
                      audience=r.audience, text=r.text, channel=r.channel, usergroup=r.usergroup)
        for r in session.scalars(select(TimelineRule).where(
            TimelineRule.workspace_id == ws.id, TimelineRule.enabled.is_(True)))]]
    windows = [CycleWindow(c.name, c.start_date, c.end_date)
               for c in cycles_of(session=session, workspace_id=ws.id)]
    return [(rule, cycle.name, day) for rule, cycle, day in
            timeline.firing(rules, windows, today, today + timedelta(days=days))]
