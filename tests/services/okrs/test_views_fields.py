"""The read model builds its per-KR values positionally (a keyword call per KR costs two to
three times as much): every field must land where it belongs. Each input here is distinct
from every other of its type, so a value passed in the wrong place fails the comparison with
the keyword-built expectation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import scoring
from app.config import ScoringSettings
from app.domain import (
    Commitment,
    IssueFact,
    KRFacts,
    KRState,
    KRType,
    KRView,
    ObjectiveView,
    PhasedTarget,
    RollupMode,
    ScoreCard,
    TrafficLight,
    Visibility,
)
from app.models import Cycle
from app.services.okrs import facts, views
from app.services.okrs.load import CycleRows, KRRow, LastCheckins, ObjRow
from app.services.okrs.score import Pace

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
CYCLE = Cycle(id=1, workspace_id=1, name="Q1", start_date=date(2026, 2, 1),
              end_date=date(2026, 4, 30))


def _kr(**changes: Any) -> KRRow:
    row = KRRow(
        id=11, key="k", objective_id=21, title="Cut p99", kr_type="decrease",
        start_value=90.5, target_value=10.25, current_value=50.75, manual_score=0.125,
        unit="ms", weight=2.5, owner_id=31, declared_status="green", state="active",
        last_checkin_at=NOW - timedelta(days=3), due_date=date(2026, 4, 2),
        targets=[{"on": "2026-03-31", "value": 40.0}], position=0)
    return row._replace(**changes)


def _rows(kr: KRRow) -> CycleRows:
    obj = ObjRow(id=21, key="o", title="Fast", team_id=None, owner_id=31,
                 aligned_objective_id=None, aligned_kr_id=None, visibility="public",
                 commitment="committed", rollup_mode="krs", is_development=False,
                 is_draft=False)
    child = ObjRow(id=22, key="child", title="Child", team_id=None, owner_id=None,
                   aligned_objective_id=None, aligned_kr_id=kr.id, visibility="public",
                   commitment="committed", rollup_mode="krs", is_development=False,
                   is_draft=False)
    return CycleRows(objectives=[obj, child], key_results=[kr],
                     issues={kr.id: [IssueFact(closed=True, weight=3.0)]},
                     people={31: ("U31", "Pat")})


LAST = {11: LastCheckins(score=0.375, previous_score=0.0625, note="on track",
                         blockers="the vendor")}


def test_kr_facts_carry_every_field_in_place() -> None:
    kr = _kr()
    rows = _rows(kr)
    links = facts.alignment(rows.objectives, rows.key_results)
    (objective, _child) = facts.objective_facts(rows, links)
    assert objective.key_results == (KRFacts(
        id="k", kr_type=KRType.DECREASE, start=90.5, target=10.25, current=50.75,
        manual_score=0.125, weight=2.5, issues=(IssueFact(closed=True, weight=3.0),),
        children=("child",), declared_status=TrafficLight.GREEN, state=KRState.ACTIVE,
        due=date(2026, 4, 2), targets=(PhasedTarget(date(2026, 3, 31), 40.0),)),)


def _view(kr: KRRow, today: date) -> KRView:
    rows = _rows(kr)
    links = facts.alignment(rows.objectives, rows.key_results)
    card = ScoreCard(key_results={"k": 0.5}, objectives={"o": 0.5}, progress={"k": 0.5078})
    pace = Pace(kr_expected={"k": 0.875}, kr_suggested={"k": TrafficLight.RED})
    (view,) = views.kr_views(rows, links, card, LAST, pace=pace, settings=ScoringSettings(),
                             cycle=CYCLE, today=today, now=NOW)[21]
    return view


def test_kr_views_carry_every_field_in_place() -> None:
    assert _view(_kr(), NOW.date()) == KRView(
        key="k", title="Cut p99", kr_type=KRType.DECREASE, objective_key="o",
        owner_slack_id="U31", owner_name="Pat", start=90.5, target=10.25, current=50.75,
        unit="ms", weight=2.5, score=0.5, progress=0.5078, status=TrafficLight.GREEN,
        suggested_status=TrafficLight.RED, declared_status=TrafficLight.GREEN,
        previous_score=0.0625, state=KRState.ACTIVE, last_checkin_at=NOW - timedelta(days=3),
        last_note="on track", last_blockers="the vendor",
        mismatch=scoring.BEHIND_PACE, stale=False, expected=0.875, pending=False, grade=None,
        due=date(2026, 4, 2), targets=(PhasedTarget(date(2026, 3, 31), 40.0),))


def test_kr_views_after_the_end_and_before_a_first_check_in() -> None:
    # Never checked in, long overdue: stale; after the end: graded, the grade's light.
    view = _view(_kr(declared_status=None, last_checkin_at=None, state="active"),
                 CYCLE.end_date + timedelta(days=1))
    grade = scoring.grade(0.5, ScoringSettings())
    assert (view.status, view.grade, view.stale, view.pending, view.mismatch) == (
        grade.light, grade, True, False, None)
    # Before the end, never checked in: pending (and not graded).
    early = _view(_kr(declared_status=None, last_checkin_at=None), CYCLE.start_date)
    assert (early.status, early.grade, early.stale, early.pending) == (
        TrafficLight.RED, None, False, True)


def test_objective_views_carry_every_field_in_place() -> None:
    kr = _kr()
    rows = _rows(kr)
    obj, child = rows.objectives
    rows = CycleRows(objectives=[obj._replace(team_id=41, visibility="private",
                                              commitment="aspirational", rollup_mode="both",
                                              is_development=True, is_draft=False),
                                 child._replace(owner_id=None)],
                     key_results=rows.key_results, issues=rows.issues,
                     people=rows.people, teams={41: ("web", "Web team")})
    links = facts.alignment(rows.objectives, rows.key_results)
    card = ScoreCard(key_results={"k": 0.5}, objectives={"o": 0.625, "child": 0.25},
                     progress={"k": 0.5078})
    pace = Pace(kr_expected={"k": 0.875}, kr_suggested={"k": TrafficLight.RED},
                objective_expected={"o": 0.75, "child": 0.125})
    of = facts.objective_facts(rows, links)
    krs = views.kr_views(rows, links, card, LAST, pace=pace, settings=ScoringSettings(),
                         cycle=CYCLE, today=NOW.date(), now=NOW)
    top, under = views.objective_views(
        rows, links, card, krs, pace=pace, facts={o.id: o for o in of},
        settings=ScoringSettings(), cycle=CYCLE, today=NOW.date(), include_private=True,
        include_drafts=True)
    assert top == ObjectiveView(
        key="o", title="Fast", cycle="Q1", team_key="web", team_name="Web team",
        owner_slack_id="U31", owner_name="Pat", score=0.625, status=TrafficLight.GREEN,
        visibility=Visibility.PRIVATE, commitment=Commitment.ASPIRATIONAL,
        key_results=tuple(krs[21]), aligned_to=None, aligned_to_kr=None, depth=0,
        is_development=True, is_draft=False, rollup_mode=RollupMode.BOTH, expected=0.75,
        grade=None)
    assert (under.key, under.aligned_to, under.aligned_to_kr, under.depth, under.owner_name,
            under.score, under.expected, under.status, under.key_results) == (
        "child", "o", "k", 1, None, 0.25, 0.125, TrafficLight.GREEN, ())
