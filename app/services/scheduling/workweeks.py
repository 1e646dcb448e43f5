"""Each person's working week: their own days, hours and holiday calendar, else their most
specific team's (team, then department, then company, as for schedules), else the
organisation's. The organisation's own days off (``Workspace.holiday_dates``) apply to everyone.

Loaded in bulk for the tick: two queries per workspace, whatever the number of people, and
one :class:`~app.calendar.workweek.WorkWeek` per distinct combination (people share a handful).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.calendar import workweek
from app.calendar.workweek import WorkWeek
from app.models import Person, Team, TeamMember, Workspace

log = logging.getLogger(__name__)

# Team kinds, most specific first (the same precedence as schedules).
_KIND_RANK = {"team": 0, "department": 1, "company": 2}
ORG_DAY_OFF = "organisation day off"

_Level = Mapping[str, Any]


def org_days_off(ws: Workspace) -> dict[date, str]:
    """``Workspace.holiday_dates`` as dates; a stored value that cannot be read is logged."""
    out: dict[date, str] = {}
    for item in ws.holiday_dates or []:
        try:
            out[item if isinstance(item, date) else date.fromisoformat(str(item))] = ORG_DAY_OFF
        except ValueError:
            log.warning("holidays.bad_date", extra={"value": str(item)[:40]})
    return out


def _org_level(ws: Workspace) -> _Level:
    return {"work_days": ws.work_days, "work_hours": ws.work_hours,
            "holidays": ws.holiday_country}


def org_week(ws: Workspace) -> WorkWeek:
    """The organisation's working week (channel reminders, digests: the org's zone)."""
    return workweek.resolve([_org_level(ws)], extra=org_days_off(ws))


def _team_levels(session: Session, ws: Workspace,
                 person_ids: list[int] | None) -> dict[int, list[_Level]]:
    query = (select(TeamMember.person_id, Team.kind, Team.id, Team.work_days,
                    Team.work_hours, Team.holiday_calendar)
             .join(Team, Team.id == TeamMember.team_id)
             .where(TeamMember.workspace_id == ws.id, Team.workspace_id == ws.id,
                    or_(Team.work_days.isnot(None), Team.work_hours.isnot(None),
                        Team.holiday_calendar.isnot(None))))
    if person_ids is not None:
        query = query.where(TeamMember.person_id.in_(person_ids))
    return team_levels(session.execute(query).all())


def team_levels(rows: Iterable[Sequence[Any]]) -> dict[int, list[_Level]]:
    """Each person's team levels, most specific first, from (person, team kind, team id,
    work days, work hours, holiday calendar) of the teams that set any of them."""
    ranked: dict[int, list[tuple[int, int, _Level]]] = defaultdict(list)
    for pid, kind, tid, days, hours, calendar in rows:
        ranked[pid].append((_KIND_RANK.get(kind, 0), tid,
                            {"work_days": days, "work_hours": hours, "holidays": calendar}))
    return {pid: [level for _, _, level in sorted(items, key=lambda i: (i[0], i[1]))]
            for pid, items in ranked.items()}


def _key(levels: Iterable[_Level]) -> tuple[Any, ...]:
    return tuple((tuple(lv.get("work_days") or ()), lv.get("work_hours"), lv.get("holidays"))
                 for lv in levels)


def weeks_for(session: Session, ws: Workspace,
              person_ids: Iterable[int] | None = None) -> dict[int, WorkWeek]:
    """The working week of each person of ``ws`` (all of them, or ``person_ids``)."""
    ids = None if person_ids is None else list(set(person_ids))
    query = select(Person.id, Person.work_days, Person.work_hours, Person.holiday_calendar
                   ).where(Person.workspace_id == ws.id)
    if ids is not None:
        if not ids:
            return {}
        query = query.where(Person.id.in_(ids))
    teams = _team_levels(session, ws, ids)
    return weeks_from(ws, session.execute(query).all(), teams)


def weeks_from(ws: Workspace, people: Iterable[Sequence[Any]],
               teams: Mapping[int, list[_Level]],
               shared: dict[tuple[Any, ...], WorkWeek] | None = None) -> dict[int, WorkWeek]:
    """The working weeks of ``people`` (id, work days, work hours, holiday calendar) of
    ``ws``, given their team levels (:func:`team_levels`). ``shared``: weeks already resolved
    (a tick reading many workspaces resolves each distinct combination once)."""
    org = _org_level(ws)
    extra = org_days_off(ws)
    days_off = tuple(sorted(extra.items()))
    shared = {} if shared is None else shared
    out: dict[int, WorkWeek] = {}
    for pid, days, hours, calendar in people:
        levels = [{"work_days": days, "work_hours": hours, "holidays": calendar},
                  *teams.get(pid, []), org]
        key = (_key(levels), days_off)
        if key not in shared:
            shared[key] = workweek.resolve(levels, extra=extra)
        out[pid] = shared[key]
    return out


def week_for(session: Session, ws: Workspace, person: Person) -> WorkWeek:
    """One person's working week (the organisation's when the person is not in ``ws``)."""
    return weeks_for(session, ws, [person.id]).get(person.id) or org_week(ws)
