"""Whose working week applies: the person's own, else their most specific team's, else the
organisation's (``app.calendar.workweek.resolve``), with the organisation's holiday calendar
and its own days off last."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.workweek import WorkWeek, resolve
from app.models import Person, Team, TeamMember, Workspace

# Team kinds, most specific first (as for schedules).
_KIND_RANK = {"team": 0, "department": 1, "company": 2}
ORG_DAY_OFF = "company holiday"


def _org_extra(ws: Workspace) -> dict[date, str]:
    out: dict[date, str] = {}
    for text in ws.holiday_dates or []:
        try:
            out[date.fromisoformat(str(text))] = ORG_DAY_OFF
        except ValueError:
            continue
    return out


def _org_level(ws: Workspace) -> dict[str, Any]:
    return {"work_days": ws.work_days, "work_hours": ws.work_hours}


def weeks_for(session: Session, ws: Workspace, person_ids: Iterable[int]) -> dict[int, WorkWeek]:
    """The working week of each of ``person_ids`` (people not in this workspace are left out)."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    people = session.execute(
        select(Person.id, Person.work_days, Person.work_hours, Person.holiday_calendar)
        .where(Person.workspace_id == ws.id, Person.id.in_(ids))).all()
    teams: dict[int, list[tuple[int, int, Mapping[str, Any]]]] = defaultdict(list)
    for pid, tid, kind, days, calendar in session.execute(
            select(TeamMember.person_id, Team.id, Team.kind, Team.work_days, Team.holiday_calendar)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.workspace_id == ws.id, TeamMember.person_id.in_(ids))):
        teams[pid].append((_KIND_RANK.get(kind, 0), tid,
                           {"work_days": days, "holidays": calendar}))
    org, extra = _org_level(ws), _org_extra(ws)
    out: dict[int, WorkWeek] = {}
    for pid, days, hours, calendar in people:
        levels: list[Mapping[str, Any] | None] = [
            {"work_days": days, "work_hours": hours, "holidays": calendar}]
        levels += [level for _, _, level in sorted(teams.get(pid, []), key=lambda t: t[:2])]
        levels.append(org)
        out[pid] = resolve(levels, org_calendar=ws.holiday_country, extra=extra)
    return out


def week_for(session: Session, ws: Workspace, person: Person) -> WorkWeek:
    """One person's working week."""
    return weeks_for(session, ws, [person.id]).get(person.id) or resolve(
        [_org_level(ws)], org_calendar=ws.holiday_country, extra=_org_extra(ws))
