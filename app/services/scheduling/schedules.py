"""Schedules as data: the effective check-in and digest schedule of a person or team, the
facts that decide whether a prompt goes out (a person's next prompts are in ``upcoming``,
snoozing and skipping in ``snoozes``).

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
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, any_, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.calendar import cadence
from app.calendar.cadence import Schedule, ScheduleError
from app.calendar.phases import effective_phase
from app.domain import CyclePhase
from app.models import (
    Cycle,
    KeyResult,
    Objective,
    Person,
    PromptSkip,
    Team,
    TeamMember,
    Workspace,
)
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
    rows = session.execute(
        select(TeamMember.person_id, Team.id, Team.kind, Team.key, Team.checkin_schedule)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.workspace_id == ws.id, Team.checkin_schedule.isnot(None))
    ).all()
    return plans_from(ws, people, rows)


def plans_from(ws: Workspace, people: Iterable[Sequence[Any]],
               memberships: Iterable[Sequence[Any]]) -> list[PersonPlan]:
    """The plans of ``people`` (id, Slack id, zone, own schedule; active ones, in order) given
    their memberships of teams with a schedule (person, team id, kind, key, schedule): what
    :func:`checkin_plans` reads, for a tick that reads many workspaces at once."""
    teams: dict[int, list[tuple[int, int, str, Mapping[str, Any]]]] = defaultdict(list)
    for pid, tid, kind, key, sched in memberships:
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


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when unknown). Kept: ``ZoneInfo`` only keeps a few zones
    that nothing holds on to, and a tick over many workspaces would read the same files from
    disk again and again."""
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
        active=person.active, away_until=person.away_until, away_from=person.away_from,
        phase=phase_on(cycle, day), active_krs=krs,
        skipped_week=week_skipped(session=session, workspace_id=ws.id, person_id=person.id,
                                  day=day),
    )
    return facts, cycle


def anchor_for(cycles: Sequence[Cycle]) -> Callable[[date], date | None]:
    """Multi-week cadences without an anchor count weeks from the start of the cycle that
    contains the occurrence date."""

    def anchor(day: date) -> date | None:
        cycle = cycle_on(cycles, day)
        return cycle.start_date if cycle else None

    return anchor


def in_ids(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(:ids)``, one array parameter: a tick
    over thousands of workspaces would otherwise send (and have the driver parse) a
    placeholder per id in every statement."""
    values = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(Integer)))
    return column.in_(values)


def insert_ignore(session: Session, model: type[Any]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect (PostgreSQL, SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(model).on_conflict_do_nothing()
    return sqlite_insert(model).on_conflict_do_nothing()
