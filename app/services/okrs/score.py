"""The read model's numbers: the rollup of a cycle's facts, the expected pace and the means."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import scoring
from app.config import ScoringSettings
from app.domain import (
    Commitment,
    CycleView,
    CycleWindow,
    KRFacts,
    KRType,
    ObjectiveFacts,
    ObjectiveView,
    RollupMode,
    ScoreCard,
    TrafficLight,
)
from app.models import Cycle
from app.services.okrs import cycles as cycles_service


def score(facts: Sequence[ObjectiveFacts]) -> ScoreCard:
    """Every KR and objective of the cycle scored (see :func:`scoring.rollup`)."""
    return scoring.rollup(facts)


_LINEAR = KRFacts(id="", kr_type=KRType.MANUAL)
_MILESTONE = KRType.MILESTONE
_CHILDREN = KRType.CHILDREN


@dataclass(frozen=True, slots=True)
class Pace:
    """What the plan expects by today: per KR (by key) its expected score and suggested light,
    per objective (by key) its weighted expected progress (see :mod:`scoring.pace`)."""

    kr_expected: dict[str, float] = field(default_factory=dict)
    kr_suggested: dict[str, TrafficLight] = field(default_factory=dict)
    objective_expected: dict[str, float] = field(default_factory=dict)


def pace(facts: Sequence[ObjectiveFacts], card: ScoreCard, window: CycleWindow, today: date,
         settings: ScoringSettings) -> Pace:
    """Expected scores and suggested lights for every KR and objective of the cycle.

    Runs once per KR (100,000 in the benchmark): the straight-line expectation is computed
    once per goal, and only milestones and KRs with phased targets take the general path.
    """
    out = Pace()
    by_key = {o.id: o for o in facts}
    kr_expected, kr_suggested, scores = out.kr_expected, out.kr_suggested, card.key_results
    yellow, red, days = settings.yellow_gap, settings.red_gap, settings.milestone_at_risk_days
    goals = {c: scoring.goal(c, settings.aspirational_target) for c in Commitment}
    linear = {c: scoring.kr_expected(_LINEAR, window, today, end_goal=g)
              for c, g in goals.items()}
    suggest = scoring.suggester(yellow_gap=yellow, red_gap=red)
    for o in facts:
        plain = linear[o.commitment]
        for kr in o.key_results:
            score = scores.get(kr.id, 0.0)
            if kr.kr_type != _MILESTONE and not kr.targets:
                kr_expected[kr.id] = plain
                kr_suggested[kr.id] = suggest(score, plain)
                continue
            expected = scoring.kr_expected(kr, window, today, end_goal=goals[o.commitment])
            kr_expected[kr.id] = expected
            kr_suggested[kr.id] = scoring.kr_suggestion(
                kr, score, expected, window, today, yellow_gap=yellow, red_gap=red,
                at_risk_days=days)
    for o in facts:
        if o.id not in out.objective_expected:
            _objective_expected(o.id, by_key, out, set())
        for kr in o.key_results:  # children KRs now expect what their objectives expect
            if kr.kr_type == _CHILDREN:
                kr_suggested[kr.id] = suggest(scores.get(kr.id, 0.0), kr_expected[kr.id])
    return out


def _objective_expected(key: str, by_key: dict[str, ObjectiveFacts], out: Pace,
                        visiting: set[str]) -> float:
    """Memoised; an alignment loop counts the looping child as expecting its KRs only."""
    if key in out.objective_expected:
        return out.objective_expected[key]
    o = by_key[key]
    visiting.add(key)
    kr_expected = out.kr_expected
    kids: list[tuple[float, float]] = []
    for kr in o.key_results:
        if kr.kr_type == KRType.CHILDREN:
            pairs = [(_objective_expected(c, by_key, out, visiting), by_key[c].weight)
                     for c in dict.fromkeys(kr.children) if c in by_key and c not in visiting]
            if pairs:  # a children KR expects what its objectives expect
                kr_expected[kr.id] = out.kr_expected[kr.id] = scoring.weighted_expected(
                    (), {}, pairs, mode_both=True)
    if o.rollup_mode != RollupMode.KRS:
        kids = [(_objective_expected(c, by_key, out, visiting), by_key[c].weight)
                for c in dict.fromkeys(o.children) if c in by_key and c not in visiting]
    visiting.discard(key)
    value = scoring.weighted_expected(
        o.key_results, kr_expected, kids, mode_children=o.rollup_mode == RollupMode.CHILDREN,
        mode_both=o.rollup_mode == RollupMode.BOTH)
    out.objective_expected[key] = value
    return value


def cycle_view(cycle: Cycle, today: date) -> CycleView:
    """Where the cycle stands on ``today``, with the progress expected by then (the pace)."""
    cview = cycles_service.view(cycle, today)
    expected = scoring.expected_progress(cycles_service.window(cycle), today)
    return CycleView(
        name=cview.name, start=cview.start, end=cview.end, phase=cview.phase, day=cview.day,
        total_days=cview.total_days, expected=expected,
    )


def team_scores(views: Sequence[ObjectiveView]) -> dict[str, float]:
    """Each team's mean objective score, over the objectives shown."""
    team_objs: dict[str, list[float]] = defaultdict(list)
    for v in views:
        if v.team_key:
            team_objs[v.team_key].append(v.score)
    return {t: sum(s) / len(s) for t, s in team_objs.items() if s}


def company_score(views: Sequence[ObjectiveView]) -> float | None:
    """The mean score of the top-level objectives shown (None when there are none)."""
    tops = [v.score for v in views if v.aligned_to is None]
    return sum(tops) / len(tops) if tops else None
