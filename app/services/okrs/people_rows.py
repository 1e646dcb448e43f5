"""The read model's people and teams: names for the views, and each person's check-in period
(for "two of the owner's cadences" of staleness), as selects that go out in the cycle read's
pipeline (:func:`~app.services.okrs.load.cycle_rows`) and the plain values built from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from app.calendar import cadence
from app.calendar.cadence import ScheduleError
from app.models import Person, Team, TeamMember, Workspace
from app.services.okrs.rows import Rows

# A schedule's period in days, for "two of the owner's cadences" (monthly counts as 31).
_PERIOD_DAYS = {**{name: 7 * weeks for name, weeks in cadence.WEEKS.items()}, "monthly": 31}
_KIND_RANK = {"team": 0, "department": 1, "company": 2}


def queries(workspace_id: int) -> list[Select[Any]]:
    """People, teams, the organisation's schedule and the teams' schedules, in that order."""
    return [
        select(Person.id, Person.slack_id, Person.name, Person.checkin_schedule)
        .where(Person.workspace_id == workspace_id),
        select(Team.id, Team.key, Team.name).where(Team.workspace_id == workspace_id),
        select(Workspace.checkin_schedule).where(Workspace.id == workspace_id),
        select(TeamMember.person_id, Team.kind, Team.checkin_schedule)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.workspace_id == workspace_id, Team.checkin_schedule.isnot(None)),
    ]


def people(rows: Rows) -> dict[int, tuple[str, str]]:
    """Person id -> (Slack id, name), from the first query's rows."""
    return {pid: (sid, name) for pid, sid, name, _schedule in rows}


def teams(rows: Rows) -> dict[int, tuple[str, str]]:
    """Team id -> (key, name), from the second query's rows."""
    return {tid: (key, name) for tid, key, name in rows}


def _period(data: Mapping[str, Any] | None) -> int | None:
    if data is None:
        return None
    try:
        return _PERIOD_DAYS.get(cadence.parse(data).cadence)
    except ScheduleError:
        return None  # unreadable: the next level decides, as for prompts


def cadence_days(people_rows: Rows, org_rows: Rows, team_rows: Rows) -> dict[int, int]:
    """Each person's check-in period: their own schedule, else their teams' (team before
    department before company), else the organisation's; weekly (left out) when none is set."""
    org = _period(org_rows[0][0]) if org_rows else None
    by_person: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pid, kind, sched in team_rows:
        days = _period(sched)
        if days is not None:
            by_person[pid].append((_KIND_RANK.get(kind, 0), days))
    out: dict[int, int] = {}
    for pid, _sid, _name, own in people_rows:
        found = _period(own)
        if found is None and by_person.get(pid):
            found = min(by_person[pid])[1]
        found = found or org
        if found is not None and found != 7:
            out[pid] = found
    return out
