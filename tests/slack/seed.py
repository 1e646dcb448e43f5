"""A small organisation for Slack tests: people, teams, a cycle around ``now`` and OKRs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember, Workspace

TEAM_ID = "T0TEST"


@dataclass
class Org:
    workspace: Workspace
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    cycle: Cycle | None = None
    objectives: dict[str, Objective] = field(default_factory=dict)
    krs: dict[str, KeyResult] = field(default_factory=dict)


def person(s: Session, org: Org, slack_id: str, name: str, *, tz: str = "Europe/Berlin",
           admin: bool = False, now: datetime) -> Person:
    p = Person(workspace_id=org.workspace.id, slack_id=slack_id, name=name, tz=tz,
               is_admin=admin, active=True, created_at=now)
    s.add(p)
    s.flush()
    org.people[slack_id] = p
    return p


def objective(s: Session, org: Org, key: str, title: str, *, owner: str | None,
              team: str | None = "eng", private: bool = False, now: datetime,
              krs: list[dict[str, object]] | None = None) -> Objective:
    assert org.cycle is not None
    o = Objective(workspace_id=org.workspace.id, key=key, cycle_id=org.cycle.id,
                  team_id=org.teams[team].id if team else None,
                  owner_id=org.people[owner].id if owner else None, title=title,
                  visibility="private" if private else "public", created_at=now,
                  updated_at=now, position=len(org.objectives))
    s.add(o)
    s.flush()
    org.objectives[key] = o
    for i, spec in enumerate(krs or []):
        spec = dict(spec)
        kr_owner = spec.pop("owner", owner)
        kr = KeyResult(workspace_id=org.workspace.id, objective_id=o.id, position=i,
                       owner_id=org.people[str(kr_owner)].id if kr_owner else None,
                       created_at=now, updated_at=now, **spec)
        s.add(kr)
        s.flush()
        org.krs[kr.key] = kr
    return o


def standard(s: Session, now: datetime, *, team_id: str = TEAM_ID) -> Org:
    """Ada leads eng (Bob and Cy are members), Dee is an admin; FY27-Q1 contains ``now``.

    Bob owns kr-inc (increase), kr-ms (milestone), kr-man (manual), kr-pct (percent) and
    kr-dec (decrease); Cy owns kr-cy; Ada owns a private objective.
    """
    ws = Workspace(name="Test", slack_team_id=team_id, created_at=now, holiday_dates=[],
                   timezone="Europe/Berlin")
    s.add(ws)
    s.flush()
    org = Org(workspace=ws)
    for sid, name in (("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy")):
        person(s, org, sid, name, now=now)
    person(s, org, "U0DEE", "Dee", admin=True, now=now)
    company = Team(workspace_id=ws.id, key="company", name="Company", kind="company")
    s.add(company)
    s.flush()
    eng = Team(workspace_id=ws.id, key="eng", name="Engineering", parent_id=company.id,
               lead_id=org.people["U0ADA"].id, channel_id="C0ENG")
    s.add(eng)
    s.flush()
    for sid in ("U0ADA", "U0BOB", "U0CY"):
        s.add(TeamMember(workspace_id=ws.id, team_id=eng.id, person_id=org.people[sid].id))
    org.teams = {"company": company, "eng": eng}
    today = now.date()
    org.cycle = Cycle(workspace_id=ws.id, name="FY27-Q1", start_date=today - timedelta(days=30),
                      end_date=today + timedelta(days=59), phase="active")
    s.add(org.cycle)
    s.flush()
    objective(s, org, "eng-onboarding", "Deliver a great onboarding", owner="U0ADA", now=now,
              krs=[
                  {"key": "kr-inc", "title": "Grow activation", "kr_type": "increase",
                   "start_value": 10.0, "target_value": 50.0, "unit": "users", "owner": "U0BOB"},
                  {"key": "kr-dec", "title": "Cut time to value", "kr_type": "decrease",
                   "start_value": 14.0, "target_value": 5.0, "unit": "days", "owner": "U0BOB"},
                  {"key": "kr-ms", "title": "Ship the walkthrough", "kr_type": "milestone",
                   "owner": "U0BOB"},
                  {"key": "kr-man", "title": "Delight users", "kr_type": "manual",
                   "owner": "U0BOB"},
                  {"key": "kr-pct", "title": "Docs coverage", "kr_type": "percent",
                   "owner": "U0BOB"},
                  {"key": "kr-cy", "title": "Fix onboarding bugs", "kr_type": "increase",
                   "start_value": 0.0, "target_value": 3.0, "owner": "U0CY"},
              ])
    objective(s, org, "ada-secret", "A private plan", owner="U0ADA", private=True, now=now,
              krs=[{"key": "kr-secret", "title": "Secret KR", "kr_type": "milestone"}])
    objective(s, org, "company-growth", "Grow the company", owner="U0DEE", team="company",
              now=now, krs=[{"key": "kr-rev", "title": "Revenue", "kr_type": "increase",
                             "start_value": 1.0, "target_value": 2.0, "unit": "M€"}])
    s.flush()
    return org


def seed_date(now: datetime) -> date:
    return now.date()
