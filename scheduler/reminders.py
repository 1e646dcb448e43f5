"""Planning-timeline reminders due now: the workspace's rules, their cycles and audiences."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import cadence, placement, timeline
from app.calendar.cadence import Occurrence
from app.calendar.timeline import Rule
from app.calendar.workweek import MAX_SEARCH_DAYS, WorkWeek
from app.domain import Due
from app.models import Cycle, Team, TimelineRule, Workspace
from app.services.okrs import cycles as cycles_service
from app.services.scheduling import schedules, workweeks
from app.services.scheduling.tick_facts import TickFacts, WorkspaceFacts


def custom_rules(session: Session, ws_id: int, *, enabled_only: bool = True) -> list[Rule]:
    query = select(TimelineRule).where(TimelineRule.workspace_id == ws_id)
    if enabled_only:
        query = query.where(TimelineRule.enabled.is_(True))
    return [rule_from(row) for row in session.scalars(query.order_by(TimelineRule.key))]


def rule_from(row: TimelineRule) -> Rule:
    hh, mm = (row.at or "10:00").split(":")
    return Rule(key=row.key, anchor=row.anchor, offset_days=row.offset_days,
                audience=row.audience, text=row.text, at=time(int(hh), int(mm)),
                channel=row.channel, usergroup=row.usergroup)


def rules_for(session: Session, ws: Workspace) -> list[Rule]:
    """The preset's rules plus the workspace's own."""
    return [*timeline.preset(ws.timeline_preset), *custom_rules(session, ws.id)]


def rule_by_key(session: Session, ws: Workspace, key: str) -> Rule | None:
    return next((r for r in rules_for(session, ws) if r.key == key), None)


def default_channels(teams: Iterable[Team]) -> list[str]:
    """Where channel reminders go without a channel of their own: the top-level teams'
    channels, or every team channel when no top-level team has one (``teams`` by id)."""
    rows = [(t.parent_id, t.channel_id) for t in teams if t.channel_id is not None]
    top = [str(ch) for parent, ch in rows if parent is None]
    return list(dict.fromkeys(top or [str(ch) for _, ch in rows]))


def audience(facts: WorkspaceFacts, rule: Rule, cycle: Cycle,
             cycles: Sequence[Cycle]) -> list[tuple[str, str, int | None]]:
    """(target, zone, person id) for each recipient of a rule in a cycle."""
    if rule.audience in ("channel", "usergroup"):
        channels = [rule.channel] if rule.channel else default_channels(facts.teams)
        return [(ch, facts.ws.timezone or "UTC", None) for ch in channels]
    if rule.audience == "kr_owners":
        ids = facts.kr_owners(cycle.id)
    elif rule.audience == "team_leads":
        ids = {t.lead_id for t in facts.teams if t.lead_id is not None}
    else:  # owners_without_krs: expected to enter KRs (objective owners now, KR owners last
        # cycle) but owning none in this cycle yet.
        expected = facts.objective_owners(cycle.id)
        earlier = [c for c in cycles if c.start_date < cycle.start_date]
        if earlier:
            expected |= facts.kr_owners(earlier[-1].id)
        ids = expected - facts.kr_owners(cycle.id)
    return [(sid, tz, pid) for pid, sid, tz in facts.active(ids)]


def _placed(rule: Rule, day: date, tz: ZoneInfo, week: WorkWeek,
            channel: bool) -> tuple[datetime, dict[str, str]]:
    """When a reminder firing on ``day`` goes out, and what the row records about a move.

    A channel reminder moves back to the organisation's previous working day (a deadline
    reminder must not come late) at its configured time; a DM follows its recipient's week
    forward and waits for their working hours."""
    scheduled = cadence.localize(day, rule.at, tz)
    if channel:
        moved = week.previous_working(day)
        at = scheduled if moved in (None, day) else cadence.localize(moved, rule.at, tz)
        if moved is None:
            return scheduled, {"day": day.isoformat(), "skip": placement.NO_WORKING_DAY}
    else:
        found = placement.place(Occurrence(scheduled, day), rule.at, week, tz)
        if found.skip:
            return scheduled, {"day": day.isoformat(), "skip": found.skip}
        at = found.at
    sent_on = at.astimezone(tz).date()
    out = {"day": sent_on.isoformat()}
    if at != scheduled:
        out |= {"scheduled_at": scheduled.isoformat(),
                "reason": week.why_not(day) or placement.OUTSIDE_HOURS}
        if sent_on != day:
            out["moved_from"] = day.isoformat()
    return at, out


def _latest_day(day: date, weeks: Iterable[WorkWeek]) -> date:
    """The latest local date a DM firing on ``day`` can go out on, over these weeks: its
    next working day, or the one after when held past the end of working hours."""
    latest = day
    for week in weeks:
        moved = week.next_working(day)
        after = week.next_working(moved + timedelta(days=1)) if moved else None
        latest = max(latest, after or moved or day)
    return latest


def due_reminders(session: Session, ws: Workspace, cycles: Sequence[Cycle], start: datetime,
                  now: datetime, weeks: Mapping[int, WorkWeek] | None = None, *,
                  facts: WorkspaceFacts | None = None) -> list[Due]:
    """Reminders whose (moved) instant, in each recipient's zone, falls in ``(start, now]``.

    ``weeks``: each person's working week (loaded here when not given); ``facts``: the
    workspace's facts when the tick has read them (else read here)."""
    if facts is None:
        facts = TickFacts(session, [ws], now, lambda _last: start)[ws.id]
    rules = [*timeline.preset(ws.timeline_preset), *(rule_from(r) for r in facts.rules)]
    if not rules:
        return []
    # Local dates differ across zones by at most a day either way; a reminder may move back
    # (channels) or forward (DMs) by up to the working-day search reach.
    reach = timedelta(days=2 * MAX_SEARCH_DAYS + 4)
    today_first = cycles_service.org_today(ws, start) - timedelta(days=1)
    today_last = cycles_service.org_today(ws, now) + timedelta(days=1)
    windows = {c.id: cycles_service.window(c) for c in cycles}
    by_id = {c.id: c for c in cycles}
    org, org_tz = workweeks.org_week(ws), schedules.zone(ws.timezone)
    out: list[Due] = []
    for rule, window, day in timeline.firing(rules, windows.values(), today_first - reach,
                                             today_last + reach):
        channel = rule.audience in ("channel", "usergroup")
        # Cheap checks first: the audience costs queries.
        if channel and not start < _placed(rule, day, org_tz, org, True)[0] <= now:
            continue
        if not channel:
            if day > today_last:
                continue  # DMs only move forward
            if weeks is None:
                weeks = facts.weeks()
            distinct = {id(w): w for w in (org, *weeks.values())}.values()
            if _latest_day(day, distinct) < today_first:
                continue
        cycle = next(by_id[i] for i, w in windows.items() if w is window)
        for target, tz, person_id in audience(facts, rule, cycle, cycles):
            week = org if person_id is None or weeks is None else weeks.get(person_id, org)
            at, payload = _placed(rule, day, schedules.zone(tz), week, person_id is None)
            if start < at <= now:
                out.append(Due("reminder", target, f"{cycle.name}:{rule.key}", at,
                               person_id=person_id, cycle_id=cycle.id, tz=tz,
                               payload={"rule": rule.key, **payload}))
    return out
