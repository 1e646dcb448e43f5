"""Mid-cycle target and weight changes (history kept) and reflections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, KRRevision
from app.services.errors import InvalidValue, NotAllowed
from app.services.okrs import adjustments
from app.services.okrs import report as okrs
from app.services.review import reflections
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org

MID = datetime(2026, 3, 15, 10, tzinfo=UTC)


@pytest.fixture()
def org(session: Session) -> Org:
    return build_org(session)


def test_target_change_keeps_old_target_and_reason(session: Session, org: Org) -> None:
    bugs = org.krs["bugs"]
    rows = adjustments.adjust_kr(session=session, workspace_id=org.id, kr=bugs,
                                 person=org.people["cy"], reason="half the bugs were duplicates",
                                 target=8, weight=2, now=MID)
    assert [(r.field, r.old_value, r.new_value) for r in rows] == [("target", 10, 8),
                                                                  ("weight", 1, 2)]
    assert (bugs.target_value, bugs.weight) == (8, 2)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "kr.adjust")).one()
    assert audit.before == {"target": 10, "weight": 1}
    assert audit.after is not None and audit.after["reason"] == "half the bugs were duplicates"
    # The read model now scores against the new target: 6 of 8.
    report = okrs.cycle_report(session=session, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
                               today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS)
    kr = report.key_result("bugs")
    assert kr is not None and kr.score == pytest.approx(0.75)
    seen = adjustments.revisions(session=session, workspace_id=org.id,
                                 cycle=org.cycles["FY27-Q1"], since=MID - timedelta(days=1))
    assert [(v.kr_key, v.field, v.author_name) for v in seen] == [("bugs", "target", "Cy"),
                                                                 ("bugs", "weight", "Cy")]
    assert adjustments.revisions(session=session, workspace_id=org.id,
                                 cycle=org.cycles["FY27-Q1"], since=MID) == []


def test_adjustment_rules(session: Session, org: Org) -> None:
    bugs = org.krs["bugs"]
    with pytest.raises(InvalidValue) as exc:
        adjustments.adjust_kr(session=session, workspace_id=org.id, kr=bugs,
                              person=org.people["cy"], reason="  ", target=8, now=MID)
    assert exc.value.field == "reason"
    with pytest.raises(NotAllowed):
        adjustments.adjust_kr(session=session, workspace_id=org.id, kr=org.krs["revenue"],
                              person=org.people["cy"], reason="because", target=8, now=MID)
    with pytest.raises(InvalidValue, match="no target"):
        adjustments.adjust_kr(session=session, workspace_id=org.id, kr=org.krs["walk"],
                              person=org.people["ada"], reason="because", target=2, now=MID)
    with pytest.raises(InvalidValue) as exc:
        adjustments.adjust_kr(session=session, workspace_id=org.id, kr=bugs,
                              person=org.people["ada"], reason="because", weight=0, now=MID)
    assert exc.value.field == "weight"
    # Lead of the team: allowed; no change: no row.
    assert adjustments.adjust_kr(session=session, workspace_id=org.id, kr=bugs,
                                 person=org.people["ada"], reason="same", target=10,
                                 now=MID) == []
    assert session.scalars(select(KRRevision)).all() == []


def test_reflections_latest_per_person_and_objective(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["bob"], objective_key="eng-onboard",
                       worked="pairing", did_not_work="estimates", now=MID)
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["bob"], objective_key="eng-onboard",
                       worked="pairing daily", carry_forward="the metrics dashboard",
                       now=MID + timedelta(days=1))
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["cy"], objective_key="cy-private",
                       carry_forward="secret plan", now=MID)
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["dee"], worked="quarterly focus", now=MID)
    got = reflections.latest(session=session, workspace_id=org.id, cycle=cycle)
    assert [(r.person_name, r.objective_key, r.worked) for r in got] == [
        ("Cy", "cy-private", None), ("Dee", None, "quarterly focus"),
        ("Bob", "eng-onboard", "pairing daily")]
    public = reflections.latest(session=session, workspace_id=org.id, cycle=cycle,
                                include_private=False)
    assert all(r.objective_key != "cy-private" for r in public)


def test_reflection_rules(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    with pytest.raises(InvalidValue, match="at least one"):
        reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                           person=org.people["bob"], worked=" ", now=MID)
    with pytest.raises(NotAllowed):
        reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                           person=org.people["bob"], objective_key="cy-private", worked="x",
                           now=MID)
    with pytest.raises(InvalidValue) as exc:
        reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                           person=org.people["bob"], objective_key="nope", worked="x", now=MID)
    assert exc.value.field == "objective"
    with pytest.raises(InvalidValue) as exc:
        reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                           person=org.people["bob"], worked="x" * 3001, now=MID)
    assert exc.value.field == "worked"
