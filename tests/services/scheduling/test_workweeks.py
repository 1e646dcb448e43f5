"""Each person's working week from person, most specific team and organisation (both backends)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import Person, Team, TeamMember, Workspace
from app.services.scheduling import workweeks

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _org(session: Session) -> tuple[Workspace, dict[str, Person]]:
    ws = Workspace(name="acme", created_at=NOW, holiday_dates=["2026-04-03"],
                   holiday_country="US", work_hours="09:00-17:00")
    session.add(ws)
    session.flush()
    people = {}
    for slack_id, extra in [("U0DE", {"holiday_calendar": "DE-BY"}),
                            ("U0IL", {"work_days": ["sun", "mon", "tue", "wed", "thu"]}),
                            ("U0US", {}), ("U0IN", {"work_hours": "10:00-18:30"})]:
        people[slack_id] = Person(workspace_id=ws.id, slack_id=slack_id, name=slack_id,
                                  created_at=NOW, **extra)
    session.add_all(people.values())
    company = Team(workspace_id=ws.id, key="co", name="Co", kind="company",
                   work_days=["mon", "tue", "wed", "thu", "fri", "sat"], work_hours="07:30-16:00")
    india = Team(workspace_id=ws.id, key="in", name="India", kind="team",
                 holiday_calendar="IN-KA", work_days=["mon", "tue", "wed", "thu", "fri"])
    session.add_all([company, india])
    session.flush()
    session.add_all([TeamMember(workspace_id=ws.id, team_id=company.id, person_id=p.id)
                     for p in people.values()])
    session.add(TeamMember(workspace_id=ws.id, team_id=india.id, person_id=people["U0IN"].id))
    session.flush()
    return ws, people


def test_person_then_most_specific_team_then_org(session: Session) -> None:
    ws, people = _org(session)
    weeks = workweeks.weeks_for(session, ws, [p.id for p in people.values()])
    de, il, us, inn = (weeks[people[k].id] for k in ("U0DE", "U0IL", "U0US", "U0IN"))
    easter_monday = date(2026, 4, 6)
    assert de.calendar == "DE-BY" and de.why_not(easter_monday) == "Easter Monday"
    assert us.calendar == "US" and us.is_working(easter_monday)
    # The company team's six-day week applies to members without their own days.
    assert us.days == frozenset(range(6)) and de.days == frozenset(range(6))
    assert il.days == frozenset({6, 0, 1, 2, 3})
    # The team beats the company; the person's own hours beat the organisation's.
    assert inn.calendar == "IN-KA" and inn.days == frozenset(range(5))
    assert inn.hours == (time(10, 0), time(18, 30)) and us.hours == (time(7, 30), time(16, 0))
    assert workweeks.org_week(ws).hours == (time(9, 0), time(17, 0))
    # The organisation's own day off applies to everyone.
    assert {w.why_not(date(2026, 4, 3)) for w in weeks.values()} >= {"organisation day off"}
    assert not any(w.is_working(date(2026, 4, 3)) for w in weeks.values())
    assert workweeks.week_for(session, ws, people["U0DE"]) == de
    assert workweeks.org_week(ws).calendar == "US"
    assert workweeks.org_week(ws).days == frozenset(range(5))


def test_bulk_load_is_a_fixed_number_of_queries(session: Session) -> None:
    ws, _people = _org(session)
    for n in range(40):
        session.add(Person(workspace_id=ws.id, slack_id=f"U{n:04d}", name="x", created_at=NOW))
    session.flush()
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", seen)
    try:
        weeks = workweeks.weeks_for(session, ws)
    finally:
        event.remove(bind, "before_cursor_execute", seen)
    assert len(weeks) == 44
    assert len(statements) <= 2


def test_other_workspace_people_are_not_loaded(session: Session) -> None:
    _ws, people = _org(session)
    other = Workspace(name="other", created_at=NOW, holiday_dates=[])
    session.add(other)
    session.flush()
    assert workweeks.weeks_for(session, other, [p.id for p in people.values()]) == {}
    assert workweeks.week_for(session, other, people["U0DE"]) == workweeks.org_week(other)
