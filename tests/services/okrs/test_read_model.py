"""The read model (okrs.cycle_report): rollup scores, privacy, stale and mismatch flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource, TrafficLight
from app.models import Cycle, Workspace
from app.services.checkins import record as checkins
from app.services.okrs import report as okrs
from tests.services.helpers import SMALL_ORG, run_import


def _report(session: Session, now, **kwargs) -> okrs.CycleReport:
    ws = session.scalars(select(Workspace)).one()
    cycle = session.scalars(select(Cycle)).one()
    return okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle, today=now.date(),
                             now=now, settings=ScoringSettings(), **kwargs)


def test_rollup_scores_match_hand_computed_values(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    report = _report(session, now)

    kr = report.scores.key_results
    assert kr["k1"] == pytest.approx(0.5)        # 5 of 0 -> 10
    assert kr["k2"] == pytest.approx(0.8)        # 2 on 10 -> 0
    assert kr["k3"] == pytest.approx(1.0)        # milestone done
    assert kr["k4"] == pytest.approx(0.4)        # 40 %
    assert kr["k5"] == pytest.approx(1.0)        # 99.5 >= 99
    assert kr["k8"] == pytest.approx(0.0)        # 9 is not <= 5
    assert kr["k6"] == pytest.approx(0.2)        # manual
    assert kr["k7"] == pytest.approx(0.0)        # no closed issues
    obj = report.scores.objectives
    assert obj["o1"] == pytest.approx((0.5 * 1 + 0.8 * 3) / 4)  # weighted: 0.725
    assert obj["o2"] == pytest.approx(0.7)
    assert obj["o4"] == pytest.approx(0.5)
    assert obj["o3"] == pytest.approx(0.5)       # rollup: children -> o4, not its own KR
    # Teams: the mean of their objectives; company: the mean of top-level objectives.
    assert report.team_scores["web"] == pytest.approx((0.7 + 0.5 + 0.5) / 3)
    assert report.team_scores["co"] == pytest.approx(0.725)
    assert report.company_score == pytest.approx((0.725 + 0.5 + 0.0) / 3)
    # Tree order: each objective followed by those aligned to it.
    assert [o.key for o in report.objectives] == ["o1", "o2", "o3", "o4", "o5"]
    assert report.objective("o2").depth == 1  # type: ignore[union-attr]


def test_private_objectives_are_excluded_when_asked(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    assert "o5" in [o.key for o in _report(session, now).objectives]
    public = _report(session, now, include_private=False)
    assert "o5" not in [o.key for o in public.objectives]
    assert public.key_result("k7") is None


def test_stale_krs_are_flagged_but_never_issue_krs(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now - timedelta(days=20))
    ws = session.scalars(select(Workspace)).one()
    k1 = okrs.kr_by_key(session=session, workspace_id=ws.id, key="k1")
    assert k1 is not None
    checkins.record(session=session, workspace_id=ws.id, kr=k1,
                    data=CheckinAnswer(kr_key="k1", value=6), author_id=None,
                    actor_label="test", source=CheckinSource.CLI, now=now - timedelta(days=1))
    report = _report(session, now)
    stale = {kr.key for o in report.objectives for kr in o.key_results if kr.stale}
    # Last check-in 20 days ago: stale. k1 checked in yesterday; k3 is done; k7 moves by itself.
    assert stale == {"k2", "k4", "k5", "k6", "k8"}


def test_declared_green_far_behind_pace_is_a_mismatch(session: Session, now) -> None:
    text = SMALL_ORG.replace("target: 10, current: 5}", "target: 10, current: 0, status: green}")
    run_import(session, text, now)
    late = now + timedelta(days=30)  # expected progress about 0.67
    view = _report(session, late).key_result("k1")
    assert view is not None
    assert view.status == TrafficLight.GREEN  # the owner's word stands
    assert view.suggested_status == TrafficLight.RED
    assert view.mismatch == "declared green but behind pace"
    assert _report(session, late).key_result("k2").mismatch is None  # type: ignore[union-attr]
