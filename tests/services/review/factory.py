"""A small organisation with two cycles of OKRs and check-in history, built with the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember, Workspace
from app.services.checkins import record as checkins

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SETTINGS = ScoringSettings()


@dataclass
class Org:
    ws: Workspace
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    cycles: dict[str, Cycle] = field(default_factory=dict)
    objectives: dict[str, Objective] = field(default_factory=dict)
    krs: dict[str, KeyResult] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.ws.id


def person(session: Session, org: Org, slack_id: str, name: str, *, tz: str = "Europe/Berlin",
           admin: bool = False) -> Person:
    p = Person(workspace_id=org.id, slack_id=slack_id, name=name, tz=tz, is_admin=admin,
               created_at=T0)
    session.add(p)
    session.flush()
    org.people[name.lower()] = p
    return p


def objective(session: Session, org: Org, key: str, cycle: str, *, owner: str, team: str | None,
              title: str | None = None, parent: str | None = None, private: bool = False,
              commitment: str = "committed") -> Objective:
    o = Objective(
        workspace_id=org.id, key=key, cycle_id=org.cycles[cycle].id,
        team_id=org.teams[team].id if team else None, owner_id=org.people[owner].id,
        title=title or f"Objective {key}", visibility="private" if private else "public",
        commitment=commitment,
        aligned_objective_id=org.objectives[parent].id if parent else None,
        position=len(org.objectives), created_at=T0, updated_at=T0,
    )
    session.add(o)
    session.flush()
    org.objectives[key] = o
    return o


def kr(session: Session, org: Org, key: str, obj: str, *, owner: str | None,
       kr_type: str = "increase", start: float | None = 0, target: float | None = 10,
       weight: float = 1.0, title: str | None = None) -> KeyResult:
    k = KeyResult(
        workspace_id=org.id, key=key, objective_id=org.objectives[obj].id,
        title=title or f"Key result {key}", kr_type=kr_type, start_value=start,
        target_value=target, weight=weight, owner_id=org.people[owner].id if owner else None,
        position=len(org.krs), created_at=T0, updated_at=T0,
    )
    session.add(k)
    session.flush()
    org.krs[key] = k
    return k


def checkin(session: Session, org: Org, key: str, value: float, at: datetime,
            author: str | None = None) -> None:
    k = org.krs[key]
    session.refresh(k)
    checkins.record(
        session=session, workspace_id=org.id, kr=k,
        data=CheckinAnswer(kr_key=key, value=value), author_id=None if author is None
        else org.people[author].id, actor_label="test", source=CheckinSource.CLI, now=at,
    )


def build_org(session: Session) -> Org:
    """Dee leads the company, Ada leads eng (Bob, Cy); FY26-Q4 finished, FY27-Q1 just ended.

    FY27-Q1 objectives: ``co-growth`` (company, Dee) with eng objectives aligned under it,
    ``eng-onboard`` (Ada; KRs ``ttv`` Bob decrease 14->5 and ``walk`` Ada milestone),
    ``eng-quality`` (Bob; ``bugs`` Cy increase 0->10), ``cy-private`` (Cy, private).
    """
    ws = Workspace(name="acme", created_at=T0, holiday_dates=[], timezone="Europe/Berlin",
                   fiscal_year_start_month=2)
    session.add(ws)
    session.flush()
    org = Org(ws=ws)
    for sid, name in (("U0DEE", "Dee"), ("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy")):
        person(session, org, sid, name)
    company = Team(workspace_id=ws.id, key="company", name="Company", kind="company",
                   lead_id=org.people["dee"].id, channel_id="C0ALL")
    session.add(company)
    session.flush()
    eng = Team(workspace_id=ws.id, key="eng", name="Engineering", parent_id=company.id,
               lead_id=org.people["ada"].id, channel_id="C0ENG")
    session.add(eng)
    session.flush()
    org.teams.update(company=company, eng=eng)
    for name in ("ada", "bob", "cy"):
        session.add(TeamMember(workspace_id=ws.id, team_id=eng.id,
                               person_id=org.people[name].id))
    session.add(TeamMember(workspace_id=ws.id, team_id=company.id, person_id=org.people["dee"].id))
    for name, start, end, phase in (("FY26-Q4", date(2025, 11, 1), date(2026, 1, 31), "closed"),
                                    ("FY27-Q1", date(2026, 2, 1), date(2026, 4, 30), "active")):
        c = Cycle(workspace_id=ws.id, name=name, start_date=start, end_date=end, phase=phase)
        session.add(c)
        session.flush()
        org.cycles[name] = c
    # Previous cycle: one objective, one KR, half done.
    objective(session, org, "old-obj", "FY26-Q4", owner="ada", team="eng")
    kr(session, org, "old-kr", "old-obj", owner="ada", start=0, target=10)
    # Its history was written while it ran: a closed cycle takes no check-ins.
    org.cycles["FY26-Q4"].phase = "active"
    checkin(session, org, "old-kr", 5, datetime(2026, 1, 20, 10, tzinfo=UTC))
    org.cycles["FY26-Q4"].phase = "closed"
    session.flush()
    # This cycle.
    objective(session, org, "co-growth", "FY27-Q1", owner="dee", team="company",
              title="Grow the business")
    kr(session, org, "revenue", "co-growth", owner="dee", start=100, target=200)
    objective(session, org, "eng-onboard", "FY27-Q1", owner="ada", team="eng", parent="co-growth",
              title="Deliver an exceptional onboarding experience")
    kr(session, org, "ttv", "eng-onboard", owner="bob", kr_type="decrease", start=14, target=5,
       weight=2, title="Reduce time-to-first-value from 14 to 5 days")
    kr(session, org, "walk", "eng-onboard", owner="ada", kr_type="milestone", start=None,
       target=None, title="Ship the guided walkthrough")
    objective(session, org, "eng-quality", "FY27-Q1", owner="bob", team="eng", parent="co-growth",
              title="Fewer bugs <reach> customers", commitment="aspirational")
    kr(session, org, "bugs", "eng-quality", owner="cy", start=0, target=10,
       title="Close 10 old bugs")
    objective(session, org, "cy-private", "FY27-Q1", owner="cy", team="eng",
              title="Secret personal growth", private=True)
    kr(session, org, "secret-kr", "cy-private", owner="cy", start=0, target=4,
       title="Read four secret books")
    week = timedelta(days=7)
    first = datetime(2026, 2, 6, 10, tzinfo=UTC)
    for i, (ttv, bugs, rev) in enumerate([(12, 2, 110), (10, 3, 130), (8, 5, 150),
                                           (7, 6, 160)]):
        at = first + i * 3 * week
        checkin(session, org, "ttv", ttv, at, "bob")
        checkin(session, org, "bugs", bugs, at, "cy")
        checkin(session, org, "revenue", rev, at, "dee")
    checkin(session, org, "walk", 1, datetime(2026, 4, 20, 10, tzinfo=UTC), "ada")
    checkin(session, org, "secret-kr", 2, datetime(2026, 4, 20, 10, tzinfo=UTC), "cy")
    return org


# After the cycle ended, during the review week.
REVIEW_NOW = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
REVIEW_DAY = date(2026, 5, 2)
