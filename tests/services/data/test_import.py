"""okr import: the example file, idempotency, updates with audit, links, what is never deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
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
from app.services.tenancy import workspaces
from tests.services.helpers import ARCHITECTURE_EXAMPLE, completed_example, counts, dump, run_import


def test_architecture_example_names_what_it_does_not_define(session: Session, now) -> None:
    with pytest.raises(load.ImportInvalid) as info:
        run_import(session, ARCHITECTURE_EXAMPLE, now)
    assert [str(p) for p in info.value.problems] == [
        "teams[0].members[1]: unknown person 'U0BOB'",
        "teams[0].parent: unknown team 'company'",
        "objectives[0].aligned_to: unknown objective 'company-growth'",
        "objectives[0].key_results[0].owner: unknown person 'U0BOB'",
    ]


def test_architecture_example_imports(session: Session, now) -> None:
    summary = run_import(session, dump(completed_example()), now)

    assert summary.counts["objectives"].created == 2
    assert summary.counts["key_results"].created == 3
    assert summary.counts["links"].created == 2
    ws = session.scalars(select(Workspace)).one()
    assert (ws.fiscal_year_start_month, ws.timezone, ws.timeline_preset) == (
        2, "Europe/Berlin", "gitlab-product")
    cycle = session.scalars(select(Cycle)).one()
    assert (cycle.name, cycle.start_date.isoformat(), cycle.end_date.isoformat()) == (
        "FY27-Q1", "2026-02-01", "2026-04-30")
    eng = session.scalars(select(Team).where(Team.key == "eng")).one()
    company = session.scalars(select(Team).where(Team.key == "company")).one()
    assert eng.parent_id == company.id and eng.channel_id == "C0ENG"
    assert eng.checkin_schedule == {"cadence": "weekly", "day": "mon", "time": "10:00"}
    assert eng.digest_schedule == {"cadence": "weekly", "day": "fri", "time": "16:00"}
    members = session.scalars(select(Person.slack_id).join(
        TeamMember, TeamMember.person_id == Person.id).where(TeamMember.team_id == eng.id))
    assert sorted(members) == ["U0ADA", "U0BOB"]
    # Bob was given a tz; a person without one gets the organisation's.
    assert {p.slack_id: p.tz for p in session.scalars(select(Person))} == {
        "U0ADA": "Europe/Berlin", "U0BOB": "America/New_York"}
    onboarding = session.scalars(select(Objective).where(Objective.key == "eng-onboarding")).one()
    growth = session.scalars(select(Objective).where(Objective.key == "company-growth")).one()
    assert onboarding.aligned_objective_id == growth.id and onboarding.cycle_id == cycle.id
    kr1 = session.scalars(select(KeyResult).where(KeyResult.key == "kr1")).one()
    assert (kr1.kr_type, kr1.start_value, kr1.target_value, kr1.unit, kr1.weight) == (
        "decrease", 14.0, 5.0, "days", 2.0)
    assert [k.key for k in onboarding.key_results] == ["kr1", "kr2", "kr3"]


def test_links_are_parsed_into_their_parts(session: Session, now) -> None:
    doc = completed_example()
    doc["objectives"][1]["key_results"][2]["links"] += [
        "https://gitlab.example.com/group/sub/project/-/merge_requests/9",
        "https://github.com/acme/api/issues/3#issuecomment-1",
    ]
    # A self-managed host is accepted once the operator allows it (OKR_GITLAB_HOSTS).
    ws = workspaces.default_workspace(session=session, now=now)
    load.import_text(session=session, workspace=ws, text=dump(doc), now=now,
                     gitlab_hosts=["gitlab.example.com"])
    rows = session.execute(select(IssueLink.provider, IssueLink.host, IssueLink.project,
                                  IssueLink.kind, IssueLink.number, IssueLink.weight,
                                  IssueLink.url).order_by(IssueLink.id)).all()
    assert [tuple(r) for r in rows] == [
        ("gitlab", "gitlab.com", "acme/web", "issue", 12, 1.0,
         "https://gitlab.com/acme/web/-/issues/12"),
        ("github", "github.com", "acme/api", "pull_request", 7, 2.0,
         "https://github.com/acme/api/pull/7"),
        ("gitlab", "gitlab.example.com", "group/sub/project", "merge_request", 9, 1.0,
         "https://gitlab.example.com/group/sub/project/-/merge_requests/9"),
        ("github", "github.com", "acme/api", "issue", 3, 1.0,
         "https://github.com/acme/api/issues/3"),
    ]


def test_importing_twice_changes_nothing(session: Session, now) -> None:
    doc = completed_example()
    doc["objectives"][1]["key_results"][0].update(current=10, status="yellow")
    first = run_import(session, dump(doc), now)
    assert first.checkins == 1
    before = counts(session)

    again = run_import(session, dump(doc), now + timedelta(days=1))

    assert not again.changed
    assert counts(session) == before  # no new audit rows, no new check-ins
    assert all(c.created == 0 and c.updated == 0 for c in again.counts.values())
    assert again.counts["key_results"].unchanged == 3


def test_a_changed_file_updates_in_place_and_audits_each_change(session: Session, now) -> None:
    doc = completed_example()
    run_import(session, dump(doc), now)
    ids = {k.key: k.id for k in session.scalars(select(KeyResult))}
    audit_before = counts(session)["audit_log"]

    doc["objectives"][1]["key_results"][0].update(target=4, current=11)
    doc["objectives"][1]["title"] = "Onboarding people love"
    doc["people"][0]["tz"] = "Asia/Kolkata"
    doc["objectives"][1]["key_results"][2]["links"][1]["weight"] = 3
    later = now + timedelta(hours=2)
    summary = run_import(session, dump(doc), later)

    assert summary.counts["key_results"].updated == 1
    assert summary.counts["objectives"].updated == 1
    assert summary.counts["people"].updated == 1
    assert summary.counts["links"].updated == 1
    assert summary.checkins == 1
    assert {k.key: k.id for k in session.scalars(select(KeyResult))} == ids  # same rows
    entries = session.scalars(select(AuditEntry).where(AuditEntry.at == later)
                              .order_by(AuditEntry.id)).all()
    assert len(entries) == counts(session)["audit_log"] - audit_before
    changes = {(e.action, e.subject_type, e.subject_key): (e.before, e.after) for e in entries}
    assert all(e.actor_label == "import" for e in entries)
    assert changes[("import.update", "key_result", "kr1")] == ({"target": 5.0}, {"target": 4.0})
    assert changes[("import.update", "objective", "eng-onboarding")] == (
        {"title": "Deliver an exceptional customer onboarding experience"},
        {"title": "Onboarding people love"})
    assert changes[("import.update", "person", "U0ADA")] == (
        {"tz": "Europe/Berlin"}, {"tz": "Asia/Kolkata"})
    assert changes[("import.update", "issue_link", "kr3 https://github.com/acme/api/pull/7")] \
        == ({"weight": 2.0}, {"weight": 3.0})
    assert ("checkin", "key_result", "kr1") in changes
    checkin = session.scalars(select(Checkin)).one()
    assert (checkin.value, checkin.source, checkin.at) == (11.0, "import", later)
    kr1 = session.get(KeyResult, ids["kr1"])
    assert kr1 is not None and (kr1.target_value, kr1.current_value) == (4.0, 11.0)
    # And the changed file is now the stored state: importing it again is a no-op.
    assert not run_import(session, dump(doc), later + timedelta(hours=1)).changed


def test_missing_things_are_never_deleted_or_cleared(session: Session, now) -> None:
    doc = completed_example()
    run_import(session, dump(doc), now)
    before = counts(session)

    slim = {"objectives": [{"id": "eng-onboarding", "title": doc["objectives"][1]["title"],
                            "key_results": [{"id": "kr1", "title": "Reduce time-to-first-value"
                                             " from 14 to 5 days"}]}]}
    summary = run_import(session, dump(slim), now + timedelta(hours=1))

    assert not summary.changed
    assert {k: v for k, v in counts(session).items()} == before
    kr1 = session.scalars(select(KeyResult).where(KeyResult.key == "kr1")).one()
    # Keys left out of the file keep their stored values.
    assert (kr1.unit, kr1.weight, kr1.kr_type, kr1.target_value) == ("days", 2.0, "decrease", 5.0)
    objective = session.scalars(select(Objective).where(Objective.key == "eng-onboarding")).one()
    assert objective.team_id is not None and objective.owner_id is not None


def test_unset_schedules_are_sql_null(session: Session, now) -> None:
    """Rows written in bulk keep absent JSON values as SQL NULL, like ORM-written rows."""
    run_import(session, dump(completed_example()), now)
    nulls = session.scalars(select(Person.slack_id).where(Person.checkin_schedule.is_(None)))
    assert sorted(nulls) == ["U0ADA", "U0BOB"]
    company = session.scalars(select(Team).where(Team.key == "company",
                                                 Team.checkin_schedule.is_(None))).first()
    assert company is not None


def test_milestone_current_records_once_and_marks_it_done(session: Session, now) -> None:
    doc = completed_example()
    doc["objectives"][1]["key_results"][1]["current"] = True
    run_import(session, dump(doc), now)
    run_import(session, dump(doc), now + timedelta(hours=1))
    kr2 = session.scalars(select(KeyResult).where(KeyResult.key == "kr2")).one()
    assert (kr2.current_value, kr2.state) == (1.0, "done")
    assert len(session.scalars(select(Checkin)).all()) == 1


def test_workspaces_do_not_see_each_other(session: Session, now) -> None:
    first = Workspace(name="first", created_at=now, holiday_dates=[])
    second = Workspace(name="second", created_at=now, holiday_dates=[])
    session.add_all([first, second])
    session.flush()
    run_import(session, dump(completed_example()), now, workspace=first)
    # The same ids are free in another workspace...
    summary = run_import(session, dump(completed_example()), now, workspace=second)
    assert summary.counts["key_results"].created == 3
    # ...and references never resolve across workspaces.
    third = Workspace(name="third", created_at=now, holiday_dates=[])
    session.add(third)
    session.flush()
    lone = {"objectives": [{"id": "x", "title": "X", "owner": "U0ADA", "cycle": "FY27-Q1"}]}
    with pytest.raises(load.ImportInvalid) as info:
        run_import(session, dump(lone), now, workspace=third)
    assert [str(p) for p in info.value.problems] == [
        "objectives[0].cycle: unknown cycle 'FY27-Q1'",
        "objectives[0].owner: unknown person 'U0ADA'",
    ]


def test_deactivating_a_person_and_moving_a_kr(session: Session, now) -> None:
    doc = completed_example()
    run_import(session, dump(doc), now)
    doc["people"][1]["active"] = False
    kr2 = doc["objectives"][1]["key_results"].pop(1)
    doc["objectives"][0]["key_results"] = [kr2]
    later = now + timedelta(hours=1)
    summary = run_import(session, dump(doc), later)
    assert summary.counts["people"].updated == 1
    assert summary.counts["key_results"].updated == 1
    bob = session.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
    assert (bob.active, bob.deactivated_at) == (False, later)
    moved = session.scalars(select(KeyResult).where(KeyResult.key == "kr2")).one()
    growth = session.scalars(select(Objective).where(Objective.key == "company-growth")).one()
    assert moved.objective_id == growth.id
    entry = session.scalars(select(AuditEntry).where(AuditEntry.subject_key == "kr2",
                                                     AuditEntry.at == later)).one()
    assert (entry.before, entry.after) == ({"objective": "eng-onboarding"},
                                           {"objective": "company-growth"})
