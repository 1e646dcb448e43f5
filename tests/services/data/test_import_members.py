"""The import file's team ``members_mode`` (add by default, or replace) and ``members_from``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Person, Team, TeamMember
from app.services.data import export
from app.services.data.imports import load
from tests.services.helpers import dump, run_import


def org(team: dict[str, Any]) -> str:
    return dump({
        "people": [{"slack_id": s, "name": s} for s in ("U0ADA", "U0BOB", "U0CY")],
        "teams": [{"id": "eng", "name": "Engineering", **team}],
    })


def members(session: Session) -> list[str]:
    return sorted(session.scalars(select(Person.slack_id).join(
        TeamMember, TeamMember.person_id == Person.id)))


def test_members_add_by_default(session: Session, now: datetime) -> None:
    run_import(session, org({"members": ["U0ADA", "U0BOB"]}), now)
    run_import(session, org({"members": ["U0CY"]}), now)
    assert members(session) == ["U0ADA", "U0BOB", "U0CY"]


def test_replace_removes_people_not_listed(session: Session, now: datetime) -> None:
    run_import(session, org({"members": ["U0ADA", "U0BOB"]}), now)
    summary = run_import(session, org({"members": ["U0BOB", "U0CY"],
                                       "members_mode": "replace"}), now)
    assert summary.counts["teams"].updated == 1
    assert members(session) == ["U0BOB", "U0CY"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.update",
                                                     AuditEntry.subject_key == "eng")).one()
    assert (entry.before, entry.after) == ({"members": ["U0ADA", "U0BOB"]},
                                           {"members": ["U0BOB", "U0CY"]})
    # An exact list again changes nothing; an empty one empties the team.
    again = run_import(session, org({"members": ["U0BOB", "U0CY"],
                                     "members_mode": "replace"}), now)
    assert again.counts["teams"].unchanged == 1
    run_import(session, org({"members": [], "members_mode": "replace"}), now)
    assert members(session) == []
    assert session.scalars(select(Person)).all() != []  # people stay


@pytest.mark.parametrize(("team", "problem"), [
    ({"members_mode": "replace"}, "members_mode: replace needs a members list"),
    ({"members_mode": "all", "members": []}, "teams[0].members_mode"),
    ({"members_from": {"channel": "C0ENG", "usergroup": "S0ENG"}}, "either channel"),
    ({"members_from": {}}, "either channel"),
    ({"members_from": {"usergroup": "eng"}}, "teams[0].members_from.usergroup"),
])
def test_bad_member_settings_are_refused(session: Session, now: datetime,
                                         team: dict[str, Any], problem: str) -> None:
    with pytest.raises(load.ImportInvalid) as info:
        run_import(session, org(team), now)
    assert problem in " ".join(str(p) for p in info.value.problems)
    assert session.scalars(select(Team)).all() == []


def test_members_from_is_stored_and_exported(session: Session, now: datetime) -> None:
    run_import(session, org({"members_from": {"usergroup": "S0ENG"}}), now)
    team = session.scalars(select(Team)).one()
    assert team.members_from == {"usergroup": "S0ENG"}
    run_import(session, org({"members_from": {"channel": "C0ENG"}}), now)
    session.refresh(team)
    assert team.members_from == {"channel": "C0ENG"}
    people = {p.id: p for p in session.scalars(select(Person))}
    assert export._teams(session, team.workspace_id, people)[0]["members_from"] == {
        "channel": "C0ENG"}
