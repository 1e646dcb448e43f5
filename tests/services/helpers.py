"""Shared helpers for the integration tests: importing YAML and counting rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    AuditEntry,
    Checkin,
    Cycle,
    IssueLink,
    KeyResult,
    Objective,
    Person,
    Team,
    TeamMember,
    Workspace,
)
from app.services.data.imports import load
from app.services.data.imports.apply import ImportSummary
from app.services.tenancy import workspaces

DATA = Path(__file__).resolve().parents[1] / "fixtures"
ARCHITECTURE_EXAMPLE = (DATA / "architecture_example.yaml").read_text()

TABLES = {"workspaces": Workspace, "people": Person, "teams": Team,
          "team_members": TeamMember, "cycles": Cycle, "objectives": Objective,
          "key_results": KeyResult, "issue_links": IssueLink, "checkins": Checkin,
          "audit_log": AuditEntry}


def completed_example() -> dict[str, Any]:
    """The architecture example plus the person, team and objective it points at."""
    doc = yaml.safe_load(ARCHITECTURE_EXAMPLE)
    doc["people"].append({"slack_id": "U0BOB", "name": "Bob", "tz": "America/New_York"})
    doc["teams"].insert(0, {"id": "company", "name": "Acme", "kind": "company"})
    doc["objectives"].insert(0, {"id": "company-growth", "cycle": "FY27-Q1", "team": "company",
                                 "title": "Grow 30% by delighting customers"})
    return doc


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


def run_import(session: Session, text: str, now: datetime,
               workspace: Workspace | None = None) -> ImportSummary:
    ws = workspace or workspaces.default_workspace(session=session, now=now)
    return load.import_text(session=session, workspace=ws, text=text, now=now)


def counts(session: Session) -> dict[str, int]:
    session.flush()
    return {name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()}


# A small organisation with one KR of each measured type and hand-checkable scores.
SMALL_ORG = """
settings: {timezone: UTC}
cycles:
  - {name: FY27-Q1, start: 2026-02-01, end: 2026-04-30}
people:
  - {slack_id: U0ANA, name: Ana}
  - {slack_id: U0BEN, name: Ben}
teams:
  - {id: co, name: Company, kind: company}
  - {id: web, name: Web, parent: co}
objectives:
  - id: o1
    team: co
    owner: U0ANA
    title: Grow
    key_results:
      - {id: k1, title: Customers from 0 to 10, owner: U0ANA, type: increase, start: 0,
         target: 10, current: 5}
      - {id: k2, title: Days from 10 to 0, owner: U0BEN, type: decrease, start: 10, target: 0,
         current: 2, weight: 3}
  - id: o2
    team: web
    owner: U0BEN
    title: Ship
    aligned_to: o1
    key_results:
      - {id: k3, title: Launch 1 site, owner: U0BEN, type: milestone, current: 1}
      - {id: k4, title: 100% tested, owner: U0BEN, type: percent, current: 40}
  - id: o3
    team: web
    owner: U0ANA
    title: Be reliable
    rollup: children
    key_results:
      - {id: k6, title: Score 1 on reliability, owner: U0ANA, type: manual, score: 0.2}
  - id: o4
    team: web
    owner: U0BEN
    title: Stay up
    aligned_to: o3
    key_results:
      - {id: k5, title: Uptime above 99, owner: U0BEN, type: above, target: 99, current: 99.5}
      - {id: k8, title: Errors below 5 a day, owner: U0BEN, type: below, target: 5, current: 9}
  - id: o5
    owner: U0BEN
    title: Private plans
    visibility: private
    key_results:
      - {id: k7, title: Fix 2 issues, owner: U0BEN, type: issues,
         links: ["https://github.com/acme/api/issues/1"]}
"""


# SMALL_ORG with its cycle explicitly running: without a phase, the import derives it from
# today's date, and a test run after the cycle's end would find it closed (read-only).
RUNNING_ORG = SMALL_ORG.replace("end: 2026-04-30}", "end: 2026-04-30, phase: active}", 1)
