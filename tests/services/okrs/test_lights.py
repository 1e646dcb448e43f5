"""Lights people trust: the read model's pace per KR plan, objective lights, grades after the
end, outdated and pending KRs, and the import/export of ``due`` and ``targets``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource, Grade, Light, TrafficLight
from app.models import Cycle, KeyResult, Workspace
from app.services.checkins import record as checkins
from app.services.data import export
from app.services.okrs import report as okrs
from tests.services.helpers import run_import

ORG = """
settings: {timezone: UTC}
cycles:
  - {name: Q, start: 2026-02-01, end: 2026-05-01}
people:
  - {slack_id: U0ANA, name: Ana}
  - {slack_id: U0BEN, name: Ben, checkin: {cadence: biweekly, day: mon, time: "09:00"}}
objectives:
  - id: stretch
    title: Stretch
    commitment: aspirational
    key_results:
      - {id: s1, title: Users 0 to 100, owner: U0ANA, type: increase, start: 0, target: 100}
      - {id: s2, title: Revenue 0 to 10, owner: U0BEN, type: increase, start: 0, target: 10}
  - id: commit
    title: Commit
    key_results:
      - {id: c1, title: Users 0 to 100, owner: U0ANA, type: increase, start: 0, target: 100,
         targets: [{on: 2026-03-01, value: 20}, {on: 2026-04-01, value: 80}]}
      - {id: c2, title: Ship it, owner: U0ANA, type: milestone, due: 2026-04-15}
"""
IMPORTED = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


def _report(session: Session, now: datetime, **settings: object) -> okrs.CycleReport:
    ws = session.scalars(select(Workspace)).one()
    cycle = session.scalars(select(Cycle)).one()
    return okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle,
                             today=now.date(), now=now,
                             settings=ScoringSettings(**settings))  # type: ignore[arg-type]


def _checkin(session: Session, key: str, at: datetime, *, value: float,
             status: str | None = None) -> None:
    ws = session.scalars(select(Workspace)).one()
    kr = session.scalars(select(KeyResult).where(KeyResult.key == key)).one()
    checkins.record(session=session, workspace_id=ws.id, kr=kr,
                    data=CheckinAnswer(kr_key=key, value=value, status=status),
                    author_id=kr.owner_id, actor_label="test", source=CheckinSource.CLI,
                    now=at)


@pytest.fixture()
def org(session: Session) -> None:
    run_import(session, ORG, IMPORTED)


@pytest.mark.usefixtures("org")
def test_aspirational_objective_at_seventy_percent_of_pace_is_green(session: Session) -> None:
    at = _at("2026-03-17")  # day 45 of 90: committed expects 0.50, aspirational 0.35
    _checkin(session, "s1", at - timedelta(days=1), value=30)
    _checkin(session, "s2", at - timedelta(days=1), value=3)
    report = _report(session, at)
    s1 = report.key_result("s1")
    assert s1 is not None and s1.expected == pytest.approx(0.35)
    assert s1.suggested_status == TrafficLight.GREEN
    stretch = report.objective("stretch")
    assert stretch is not None
    assert (stretch.expected, stretch.status) == (pytest.approx(0.35), TrafficLight.GREEN)


@pytest.mark.usefixtures("org")
def test_phased_targets_and_milestone_due_date_set_the_kr_pace(session: Session) -> None:
    _checkin(session, "c1", _at("2026-03-16"), value=40)
    _checkin(session, "c2", _at("2026-03-16"), value=0)
    mid = _report(session, _at("2026-03-17"))
    c1, c2 = mid.key_result("c1"), mid.key_result("c2")
    assert c1 is not None and c2 is not None
    assert c1.expected == pytest.approx(0.2 + 0.6 * 16 / 31)
    assert c1.suggested_status == TrafficLight.GREEN
    assert (c2.suggested_status, c2.due.isoformat() if c2.due else None) == (
        TrafficLight.GREEN, "2026-04-15")
    _checkin(session, "c2", _at("2026-04-09"), value=0)
    window = _report(session, _at("2026-04-09")).key_result("c2")
    assert window is not None and window.suggested_status == TrafficLight.YELLOW
    _checkin(session, "c2", _at("2026-04-16"), value=0)
    late = _report(session, _at("2026-04-16")).key_result("c2")
    assert late is not None and late.suggested_status == TrafficLight.RED


@pytest.mark.usefixtures("org")
def test_a_declared_red_keeps_the_objective_at_yellow_at_best(session: Session) -> None:
    at = _at("2026-03-17")
    _checkin(session, "s1", at, value=50, status="red")
    _checkin(session, "s2", at, value=5)
    assert _report(session, at).objective("stretch").status == TrafficLight.YELLOW  # type: ignore[union-attr]
    # The worst-of-KRs rule stays available: a declared red makes the objective red.
    worst = _report(session, at, OKR_OBJECTIVE_STATUS="worst").objective("stretch")
    assert worst is not None and worst.status == TrafficLight.RED


@pytest.mark.usefixtures("org")
def test_never_checked_in_is_pending_and_two_missed_cadences_are_outdated(
        session: Session) -> None:
    at = _at("2026-03-20")
    early = _report(session, _at("2026-02-03")).key_result("s1")
    assert early is not None and early.light == Light.PENDING  # not green, though on pace
    _checkin(session, "s1", at - timedelta(days=15), value=40)
    _checkin(session, "s2", at - timedelta(days=15), value=4)
    report = _report(session, at)
    s1, s2 = report.key_result("s1"), report.key_result("s2")
    assert s1 is not None and s2 is not None
    # Ana checks in weekly: 15 days is two cadences; Ben biweekly: not yet.
    assert (s1.stale, s1.light) == (True, Light.OUTDATED)
    assert s1.status == TrafficLight.GREEN  # the last light is kept underneath
    assert (s2.stale, s2.light) == (False, Light.GREEN)
    data = export.gather(session=session, workspace=session.scalars(select(Workspace)).one(),
                         now=at, settings=ScoringSettings())
    exported = {kr["id"]: kr for o in export.to_dict(data)["objectives"]
                for kr in o["key_results"]}
    assert (exported["s1"]["stale"], exported["s1"]["light"]) == (True, "outdated")
    assert exported["s2"]["stale"] is False
    assert exported["c1"]["targets"] == [{"on": "2026-03-01", "value": 20.0},
                                         {"on": "2026-04-01", "value": 80.0}]
    assert exported["c2"]["due"] == "2026-04-15"


@pytest.mark.usefixtures("org")
def test_after_the_end_lights_are_grades(session: Session) -> None:
    _checkin(session, "s1", _at("2026-04-27"), value=90)
    _checkin(session, "s2", _at("2026-04-27"), value=9)
    after = _report(session, _at("2026-05-10"))
    stretch, s1 = after.objective("stretch"), after.key_result("s1")
    assert stretch is not None and s1 is not None
    assert (stretch.grade, stretch.light, stretch.status) == (
        Grade.STRONG, Light.STRONG, TrafficLight.GREEN)  # 0.9 is strong, never at risk
    assert (s1.grade, s1.light, s1.stale) == (Grade.STRONG, Light.STRONG, False)
    commit = after.objective("commit")
    assert commit is not None and (commit.grade, commit.status) == (Grade.MISS, TrafficLight.RED)
    before = _report(session, _at("2026-04-28")).objective("stretch")
    assert before is not None and before.grade is None
