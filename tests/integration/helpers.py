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
from app.services import imports, workspaces
from app.services.import_apply import ImportSummary

DATA = Path(__file__).parent / "data"
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
    return imports.import_text(session=session, workspace=ws, text=text, now=now)


def counts(session: Session) -> dict[str, int]:
    session.flush()
    return {name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()}
