"""Working days, hours and holiday calendars in the import file, on the organisation, teams and
people; a team's ``digest: {names: false}``; and the same values in the export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.models import Person, Team, Workspace
from app.services.data import export
from app.services.data.imports import load
from app.services.tenancy import workspaces
from tests.services.helpers import counts, dump, run_import


def org(*, settings: dict[str, Any] | None = None, person: dict[str, Any] | None = None,
        team: dict[str, Any] | None = None) -> str:
    return dump({
        "settings": {"timezone": "Europe/Berlin", **(settings or {})},
        "people": [{"slack_id": "U0ADA", "name": "Ada", **(person or {})},
                   {"slack_id": "U0BOB", "name": "Bob"}],
        "teams": [{"id": "eng", "name": "Engineering", "members": ["U0ADA", "U0BOB"],
                   **(team or {})}],
    })


def test_working_weeks_are_stored_normalised_and_exported(session: Session,
                                                          now: datetime) -> None:
    run_import(session, org(
        settings={"work_days": ["Mon", "tue", "wed", "thu", "fri"], "work_hours": "09:00-18:00"},
        person={"work_days": ["sun", "mon", "tue", "wed", "thu"], "work_hours": "08:30-17:00",
                "holidays": "de-by", "away_from": "2026-03-09", "away_until": "2026-03-13"},
        team={"work_days": ["mon", "tue", "wed", "thu"], "work_hours": "10:00-16:00",
              "holidays": "IN-KA", "digest": {"names": False}}), now)
    ws = session.scalars(select(Workspace)).one()
    assert (ws.work_days, ws.work_hours) == (["mon", "tue", "wed", "thu", "fri"], "09:00-18:00")
    ada = session.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
    assert (ada.work_days, ada.work_hours, ada.holiday_calendar) == (
        ["mon", "tue", "wed", "thu", "sun"], "08:30-17:00", "DE-BY")
    assert (ada.away_from, ada.away_until) == (date(2026, 3, 9), date(2026, 3, 13))
    team = session.scalars(select(Team)).one()
    assert (team.work_days, team.work_hours, team.holiday_calendar) == (
        ["mon", "tue", "wed", "thu"], "10:00-16:00", "IN-KA")
    # names only: the digest schedule is left as it was (the organisation's).
    assert team.digest_names is False and team.digest_schedule is None
    data = export.to_dict(export.gather(session=session, workspace=ws, now=now,
                                        settings=ScoringSettings()))
    assert data["workspace"]["work_hours"] == "09:00-18:00"
    exported_ada = next(p for p in data["people"] if p["slack_id"] == "U0ADA")
    assert exported_ada["holidays"] == "DE-BY" and exported_ada["work_hours"] == "08:30-17:00"
    assert data["teams"][0]["digest"] == {"names": False}
    assert data["teams"][0]["holidays"] == "IN-KA"
    # names again true, with a schedule: both are stored.
    run_import(session, org(team={"digest": {"names": True, "day": "thu", "time": "15:00"}}),
               now)
    session.refresh(team)
    assert team.digest_names is True
    assert team.digest_schedule == {"cadence": "weekly", "day": "thu", "time": "15:00"}


@pytest.mark.parametrize(("kw", "problem"), [
    ({"person": {"work_days": ["mon", "funday"]}}, "people[0].work_days: 'funday' is not a day"),
    ({"person": {"work_days": []}}, "people[0].work_days: give a list of day names"),
    ({"person": {"work_days": ["mon", "mon"]}}, "people[0].work_days: a day is listed twice"),
    ({"person": {"work_hours": "19:00-08:00"}}, "people[0].work_hours: the end of the working"),
    ({"person": {"work_hours": "nine to five"}}, "people[0].work_hours: 'nine to five' is not"),
    ({"person": {"holidays": "XX"}}, "people[0].holidays: unknown holiday calendar 'XX'"),
    ({"person": {"holidays": "DE-XX"}}, "people[0].holidays: unknown holiday calendar 'DE-XX'"),
    ({"person": {"away_from": "2026-03-20", "away_until": "2026-03-13"}},
     "people[0].away_from: is after away_until"),
    ({"team": {"holidays": "Narnia"}}, "teams[0].holidays: unknown holiday calendar"),
    ({"team": {"digest": {"names": "maybe"}}}, "teams[0].digest.names: must be true or false"),
    ({"settings": {"work_days": "weekdays"}}, "settings.work_days: give a list of day names"),
    ({"settings": {"work_hours": 600}}, "settings.work_hours: must be \"HH:MM-HH:MM\" in quotes"),
])
def test_bad_values_are_refused_with_their_path_and_change_nothing(
        session: Session, now: datetime, kw: dict[str, Any], problem: str) -> None:
    workspaces.default_workspace(session=session, now=now)
    before = counts(session)
    with pytest.raises(load.ImportInvalid) as info:
        run_import(session, org(**kw), now)
    assert problem in " ".join(str(p) for p in info.value.problems)
    assert counts(session) == before
