"""Schedules as data: the effective check-in and digest schedule of a person or team, the
facts that decide whether a prompt goes out, and the upcoming prompts of a person.

Person overrides team overrides org overrides the built-in default (weekly, Monday 10:00 in
the person's own zone; digests weekly, Friday 16:00 in the org's zone). The schedule math
lives in the pure ``scheduler.cadence`` / ``scheduler.skips`` modules, which import nothing of
ours but ``app.domain`` (like ``scoring``).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.calendar import cadence
from app.calendar.cadence import Schedule, ScheduleError
from app.calendar.phases import effective_phase
from app.calendar.workdays import org_holidays
from app.domain import CyclePhase
from app.models import (
    Cycle,
    Delivery,
    KeyResult,
    Objective,
    Person,
    PromptSkip,
    Team,
    TeamMember,
    Workspace,
)
from app.services import audit
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.scheduling import skips

log = logging.getLogger(__name__)

# Team kinds, most specific first: a person in a team and its department takes the team's.
_KIND_RANK = {"team": 0, "department": 1, "company": 2}


@dataclass(frozen=True, slots=True)
class PersonPlan:
    """One active person's effective check-in schedule."""

    person_id: int
    slack_id: str
    tz: str
    schedule: Schedule
    source: str  # "person", "team:<key>", "org" or "default"


def _parse(data: Mapping[str, Any] | None, default: Schedule, where: str) -> Schedule | None:
    if data is None:
        return None
    try:
        return _parse_text(json.dumps(data, sort_keys=True, default=str), default)
    except ScheduleError as exc:
        # A stored schedule that cannot be read falls back to the next level, loudly.
        log.warning("schedule.invalid", extra={"where": where, "problem": str(exc)})
        return None


@lru_cache(maxsize=4096)
def _parse_text(text: str, default: Schedule) -> Schedule:
    # Thousands of people share a handful of team schedules: parse each once.
    return cadence.parse(json.loads(text), default=default)


def resolve(person: Mapping[str, Any] | None, teams: Sequence[tuple[str, Mapping[str, Any]]],
            org: Mapping[str, Any] | None, *, default: Schedule = cadence.DEFAULT_CHECKIN,
            where: str = "") -> tuple[Schedule, str]:
    """The first readable schedule of person, teams (in the given order), org, default."""
    found = _parse(person, default, f"{where}person")
    if found is not None:
        return found, "person"
    for key, data in teams:
        found = _parse(data, default, f"{where}team:{key}")
        if found is not None:
            return found, f"team:{key}"
    found = _parse(org, default, f"{where}org")
    if found is not None:
        return found, "org"
    return default, "default"


def checkin_plans(*, session: Session, ws: Workspace,
                  person_ids: Iterable[int] | None = None) -> list[PersonPlan]:
    """Effective schedules of the workspace's active people (or of ``person_ids``)."""
    query = select(Person.id, Person.slack_id, Person.tz, Person.checkin_schedule).where(
        Person.workspace_id == ws.id, Person.active.is_(True))
    if person_ids is not None:
        query = query.where(Person.id.in_(list(person_ids)))
    people = session.execute(query).all()
    teams: dict[int, list[tuple[int, int, str, Mapping[str, Any]]]] = defaultdict(list)
    rows = session.execute(
        select(TeamMember.person_id, Team.id, Team.kind, Team.key, Team.checkin_schedule)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.workspace_id == ws.id, Team.checkin_schedule.isnot(None))
    ).all()
    for pid, tid, kind, key, sched in rows:
        teams[pid].append((_KIND_RANK.get(kind, 0), tid, key, sched))
    out = []
    for pid, slack_id, tz, own in people:
        ordered = [(key, sched) for _, _, key, sched in sorted(teams.get(pid, []))]
        schedule, source = resolve(own, ordered, ws.checkin_schedule, where=f"{slack_id}:")
        out.append(PersonPlan(pid, slack_id, tz or "UTC", schedule, source))
    return out


def digest_schedule(team: Team, ws: Workspace) -> Schedule:
    schedule, _ = resolve(None, [(team.key, team.digest_schedule)] if team.digest_schedule else [],
                          ws.digest_schedule, default=cadence.DEFAULT_DIGEST, where="digest:")
    return schedule


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


# --- cycles --------------------------------------------------------------------------------


def cycles_of(*, session: Session, workspace_id: int) -> list[Cycle]:
    return list(session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id).order_by(Cycle.start_date)))


def cycle_on(cycles: Sequence[Cycle], day: date) -> Cycle | None:
    """The cycle containing a local date (the latest-starting one when they overlap)."""
    found = [c for c in cycles if c.start_date <= day <= c.end_date]
    return found[-1] if found else None


def phase_on(cycle: Cycle | None, day: date) -> CyclePhase | None:
    if cycle is None:
        return None
    return effective_phase(cycle.phase, cycle.start_date, cycle.end_date, day)


def holidays_of(ws: Workspace, years: Iterable[int]) -> frozenset[date]:
    return org_holidays(ws.holiday_country, ws.holiday_dates or [], years)


def kr_owner_ids(*, session: Session, workspace_id: int, cycle_id: int) -> set[int]:
    """People owning at least one key result in a cycle (any state)."""
    return set(session.scalars(
        select(KeyResult.owner_id).distinct()
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.workspace_id == workspace_id, Objective.cycle_id == cycle_id,
               Objective.is_draft.is_(False), KeyResult.owner_id.isnot(None))))


def active_kr_checkins(*, session: Session, workspace_id: int, person_id: int,
                       cycle_id: int) -> tuple[datetime | None, ...]:
    """The last check-in instant of each of a person's active KRs in a cycle."""
    rows = session.execute(
        select(KeyResult.id, KeyResult.last_checkin_at)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.workspace_id == workspace_id, KeyResult.owner_id == person_id,
               Objective.cycle_id == cycle_id, Objective.is_draft.is_(False),
               KeyResult.state == "active")).all()
    return tuple(at for _, at in rows)


def week_skipped(*, session: Session, workspace_id: int, person_id: int, day: date) -> bool:
    return session.scalar(select(PromptSkip.id).where(
        PromptSkip.workspace_id == workspace_id, PromptSkip.person_id == person_id,
        PromptSkip.week_of == cadence.week_of(day))) is not None


def prompt_facts(*, session: Session, ws: Workspace, person: Person, day: date,
                 cycles: Sequence[Cycle] | None = None) -> tuple[skips.PromptFacts, Cycle | None]:
    """Everything ``scheduler.skips`` needs about a person's prompt on a local date."""
    cycles = cycles if cycles is not None else cycles_of(session=session, workspace_id=ws.id)
    cycle = cycle_on(cycles, day)
    krs = active_kr_checkins(session=session, workspace_id=ws.id, person_id=person.id,
                             cycle_id=cycle.id) if cycle else ()
    facts = skips.PromptFacts(
        active=person.active, away_until=person.away_until, phase=phase_on(cycle, day),
        active_krs=krs,
        skipped_week=week_skipped(session=session, workspace_id=ws.id, person_id=person.id,
                                  day=day),
        holidays=holidays_of(ws, [day.year]),
    )
    return facts, cycle


# --- upcoming prompts, snooze, skip ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upcoming:
    at: datetime  # UTC
    local: datetime  # in the person's zone
    skip_reason: str | None  # why it would not go out, as far as known today
    snoozed: bool = False


def anchor_for(cycles: Sequence[Cycle]) -> Callable[[date], date | None]:
    """Multi-week cadences without an anchor count weeks from the start of the cycle that
    contains the occurrence date."""

    def anchor(day: date) -> date | None:
        cycle = cycle_on(cycles, day)
        return cycle.start_date if cycle else None

    return anchor


def upcoming_prompts(*, session: Session, ws: Workspace, person: Person, now: datetime,
                     count: int = 3) -> list[Upcoming]:
    """The person's next prompts (scheduled and snoozed), in order, with known skip reasons.

    "Checked in recently" depends on what happens before then, so it is not predicted.
    """
    tz = zone(person.tz)
    plans = checkin_plans(session=session, ws=ws, person_ids=[person.id])
    cycles = cycles_of(session=session, workspace_id=ws.id)
    out: list[Upcoming] = []
    if plans:
        anchor = anchor_for(cycles)
        for occ in cadence.upcoming(plans[0].schedule, tz, now, count, anchor=anchor):
            facts, _ = prompt_facts(session=session, ws=ws, person=person, day=occ.local_date,
                                    cycles=cycles)
            reason = skips.prompt_skip_reason(facts, local_date=occ.local_date, due_at=occ.at,
                                              checked_in_days=0)
            out.append(Upcoming(occ.at, occ.at.astimezone(tz), reason))
    snoozed = session.scalars(select(Delivery.due_at).where(
        Delivery.workspace_id == ws.id, Delivery.person_id == person.id,
        Delivery.kind == "prompt", Delivery.state == "pending", Delivery.due_at > now,
        Delivery.occurrence.contains("#snooze")))
    out += [Upcoming(at, at.astimezone(tz), None, snoozed=True) for at in snoozed]
    return sorted(out, key=lambda u: u.at)[:count]


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
    if until == "2h":
        at = now + timedelta(hours=2)
    elif until == "tomorrow":
        tomorrow = now.astimezone(tz).date() + timedelta(days=1)
        at = cadence.localize(tomorrow, row.due_at.astimezone(tz).time(), tz)
    else:
        raise InvalidValue("snooze for 2h or until tomorrow", field="until")
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


def insert_ignore(session: Session, model: type[Any]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (PostgreSQL, SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(model).on_conflict_do_nothing()
    return sqlite_insert(model).on_conflict_do_nothing()
