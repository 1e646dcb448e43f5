"""The read model's numbers: the rollup of a cycle's facts, the expected pace and the means."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import scoring
from app.domain import CycleView, ObjectiveFacts, ObjectiveView, ScoreCard
from app.models import Cycle
from app.services.okrs import cycles as cycles_service


def score(facts: Sequence[ObjectiveFacts]) -> ScoreCard:
    """Every KR and objective of the cycle scored (see :func:`scoring.rollup`)."""
    return scoring.rollup(facts)


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
