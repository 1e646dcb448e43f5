"""Pace through a cycle, suggested traffic lights and declared-status checks.

The pace rule
=============

A KR's *expected* score on a date says where its plan puts it by the end of that day.
With ``x = days elapsed including today`` (0 before the first day, the cycle's length on the
last day and after) and ``goal`` = 1.0 for a ``committed`` objective and
``aspirational_target`` (``OKR_ASPIRATIONAL_TARGET``, default 0.7) for an ``aspirational`` one:

* **Linear** (increase, decrease, percent, above, below, manual, issues and children KRs):
  ``expected = goal * x / days``.
* **Phased targets** (``targets: [{on: DATE, value: N}]``): piecewise-linear through
  ``(cycle start, 0)``, each target ``(on, score of value)`` and ``(cycle end, goal)`` (the
  end point is left out when a target falls on the last day). The score of a value is
  ``(value - start) / (target - start)``, as for the KR itself; targets are absolute, the
  goal only shapes the stretch after the last one.
* **Milestones** are binary. One that is done is green. One not done is *on track* (green)
  until ``milestone_at_risk_days`` (``OKR_MILESTONE_AT_RISK_DAYS``, default 7) days before
  its ``due`` date, *at risk* (yellow) in those days up to and including the due date, and
  *off track* (red) after it; without ``due`` the cycle's last day is the due date. Its
  expected score is 0 up to the due date and 1.0 after it.

The suggested light of a non-milestone KR compares its score with the expected score
(:func:`suggest_status`: a gap under ``yellow_gap`` (0.15) is green, under ``red_gap``
(0.30) yellow, else red; a score of 1.0 is always green). The owner's declared light, when
set, wins (:func:`effective_status`).

Examples, for a 90-day cycle 2026-02-01 .. 2026-05-01 and the default thresholds (day 1 is
02-01; ``tests/unit/scoring/test_pace_rule.py`` checks every row):

| KR                       | commitment   | day             | score    | expected | light  |
| ------------------------ | ------------ | --------------- | -------- | -------- | ------ |
| increase 0 -> 100        | committed    | 45 (03-17)      | 0.40     | 0.50     | green  |
| increase 0 -> 100        | committed    | 45 (03-17)      | 0.30     | 0.50     | yellow |
| increase 0 -> 100        | committed    | 90 (05-01)      | 0.70     | 1.00     | red    |
| increase 0 -> 100        | aspirational | 90 (05-01)      | 0.70     | 0.70     | green  |
| increase 0 -> 100        | aspirational | 45 (03-17)      | 0.15     | 0.35     | yellow |
| manual                   | aspirational | 63 (04-04)      | 0.50     | 0.49     | green  |
| targets 03-01=20 04-01=80 | committed   | 45 (03-17)      | 0.40     | 0.51     | green  |
| targets 03-01=20 04-01=80 | committed   | 59 (03-31)      | 0.50     | 0.78     | yellow |
| milestone due 04-15      | committed    | 66 (04-07)      | not done | 0.00     | green  |
| milestone due 04-15      | committed    | 67 (04-08)      | not done | 0.00     | yellow |
| milestone due 04-15      | committed    | 74 (04-15)      | not done | 0.00     | yellow |
| milestone due 04-15      | committed    | 75 (04-16)      | not done | 1.00     | red    |
| milestone (no due)       | aspirational | 90 (05-01)      | not done | 0.00     | yellow |
| milestone due 04-15      | committed    | 80 (04-21)      | done     | 1.00     | green  |

An objective's light (:func:`objective_light`): with the ``weighted`` rule (the default,
``OKR_OBJECTIVE_STATUS``), the suggestion from its score against its *weighted expected
progress* (the weighted mean of the counted KRs' expected scores, weights and paused KRs as
in :mod:`scoring.rollups`), never better than yellow when an owner declared one of its KRs
red. With ``worst``, the worst effective light of its KRs. After the cycle's end lights are
grades instead (:func:`scoring.grade`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from itertools import pairwise

from app.domain import (
    Commitment,
    CycleWindow,
    KRFacts,
    KRType,
    ObjectiveFacts,
    ObjectiveStatusRule,
    PhasedTarget,
    TrafficLight,
)
from scoring._num import EPS, clamp01, weighted_mean
from scoring.rollups import counted_krs

BEHIND_PACE = "declared green but behind pace"
AHEAD_OF_PACE = "declared red but ahead of pace"
_DONE = 1.0 - EPS  # a score this close to 1 is done


def expected_progress(cycle: CycleWindow, today: date) -> float:
    """The fraction of the cycle elapsed at the end of ``today``.

    ``days elapsed including today / days in the cycle`` (both ends of the window count):
    0.0 before the first day, ``1 / days`` on the first day, 1.0 on the last day and after.
    """
    if today < cycle.start:
        return 0.0
    if today >= cycle.end:
        return 1.0
    return ((today - cycle.start).days + 1) / cycle.days


def goal(commitment: Commitment, aspirational_target: float = 0.7) -> float:
    """The score an objective is expected to reach at the end: 1.0 committed, else the
    aspirational target."""
    return 1.0 if commitment == Commitment.COMMITTED else aspirational_target


def _x(cycle: CycleWindow, day: date) -> int:
    """Days elapsed at the end of ``day``, within ``0 .. cycle.days``."""
    return min(max((day - cycle.start).days + 1, 0), cycle.days)


def _value_score(kr: KRFacts, value: float) -> float:
    if kr.start is None or kr.target is None or kr.target == kr.start:
        return clamp01(value)
    return clamp01((value - kr.start) / (kr.target - kr.start))


def _phased(kr: KRFacts, targets: Sequence[PhasedTarget], cycle: CycleWindow, today: date,
            end_goal: float) -> float:
    points = [(0, 0.0)]
    for t in sorted(targets, key=lambda t: t.on):
        x = _x(cycle, t.on)
        if x > points[-1][0]:
            points.append((x, _value_score(kr, t.value)))
    if points[-1][0] < cycle.days:
        points.append((cycle.days, end_goal))
    x = _x(cycle, today)
    for (x0, y0), (x1, y1) in pairwise(points):
        if x <= x1:
            return clamp01(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    return clamp01(points[-1][1])


def milestone_due(kr: KRFacts, cycle: CycleWindow) -> date:
    """A milestone's due date: its own, else the cycle's last day."""
    return kr.due if kr.due is not None else cycle.end


def kr_expected(kr: KRFacts, cycle: CycleWindow, today: date, *, end_goal: float = 1.0) -> float:
    """The score the KR's plan expects by the end of ``today`` (the module's rule).

    ``end_goal`` is :func:`goal` of the KR's objective.
    """
    if kr.kr_type == KRType.MILESTONE:
        return 1.0 if today > milestone_due(kr, cycle) else 0.0
    if kr.targets:
        return _phased(kr, kr.targets, cycle, today, end_goal)
    return end_goal * _x(cycle, today) / cycle.days


def kr_suggestion(kr: KRFacts, score: float, expected: float, cycle: CycleWindow, today: date,
                  *, yellow_gap: float = 0.15, red_gap: float = 0.30,
                  at_risk_days: int = 7) -> TrafficLight:
    """The light pace suggests for one KR (milestones by their due date, the rest by gap)."""
    if kr.kr_type == KRType.MILESTONE and score < 1.0 - EPS:
        due = milestone_due(kr, cycle)
        if today > due:
            return TrafficLight.RED
        if today >= due - timedelta(days=at_risk_days):
            return TrafficLight.YELLOW
        return TrafficLight.GREEN
    return suggest_status(score, expected, yellow_gap=yellow_gap, red_gap=red_gap)


def suggest_status(
    score: float, expected: float, *, yellow_gap: float = 0.15, red_gap: float = 0.30
) -> TrafficLight:
    """Suggest a traffic light from how far a score lags the expected progress.

    With ``gap = expected - score``: a score of 1.0 (or more) is always green; otherwise
    ``gap < yellow_gap`` is green, ``yellow_gap <= gap < red_gap`` is yellow, and
    ``gap >= red_gap`` is red. A gap within 1e-9 of a threshold counts as equal to it, so
    decimal inputs such as ``0.45 - 0.30`` against ``0.15`` land on the boundary as written.
    Being ahead of pace (a negative gap) is green.
    """
    return _light(score, expected, yellow_gap - EPS, red_gap - EPS)


def _light(score: float, expected: float, yellow: float, red: float) -> TrafficLight:
    """The rule of :func:`suggest_status`, with the gaps' tolerances already applied."""
    if score >= _DONE:
        return TrafficLight.GREEN
    gap = expected - score
    if gap < yellow:
        return TrafficLight.GREEN
    return TrafficLight.YELLOW if gap < red else TrafficLight.RED


def effective_status(
    declared: TrafficLight | None,
    score: float,
    expected: float,
    *,
    yellow_gap: float = 0.15,
    red_gap: float = 0.30,
) -> TrafficLight:
    """The owner's declared status when set (it always wins), else the suggested one."""
    if declared is not None:
        return declared
    return suggest_status(score, expected, yellow_gap=yellow_gap, red_gap=red_gap)


def worst_status(statuses: Iterable[TrafficLight]) -> TrafficLight | None:
    """The worst of a set of traffic lights (red > yellow > green); None for an empty set."""
    return max(statuses, key=lambda status: status.rank, default=None)


def effective_statuses(
    krs: Iterable[KRFacts],
    kr_scores: Mapping[str, float],
    expected: float,
    *,
    yellow_gap: float = 0.15,
    red_gap: float = 0.30,
) -> list[TrafficLight]:
    """Effective status of each KR that counts for its objective, in order.

    Paused KRs are left out as in rollups (unless all are paused); a KR missing from
    ``kr_scores`` counts as score 0.
    """
    return [
        effective_status(
            kr.declared_status,
            kr_scores.get(kr.id, 0.0),
            expected,
            yellow_gap=yellow_gap,
            red_gap=red_gap,
        )
        for kr in counted_krs(tuple(krs))
    ]


def objective_status(
    statuses: Iterable[TrafficLight], *, default: TrafficLight | None = None
) -> TrafficLight:
    """An objective's status: the worst of its KRs' effective statuses.

    Feed it :func:`effective_statuses`. With no statuses (an objective without KRs) it
    returns ``default``, typically the status suggested from the objective's own score; with
    no default either it raises ValueError rather than invent a colour.
    """
    worst = worst_status(statuses)
    if worst is not None:
        return worst
    if default is None:
        raise ValueError("objective_status needs at least one KR status or a default")
    return default


def weighted_expected(krs: Sequence[KRFacts], expected: Mapping[str, float],
                      children: Iterable[tuple[float, float]] = (), *,
                      mode_children: bool = False, mode_both: bool = False) -> float:
    """An objective's expected progress: the weighted mean of its counted KRs' expected
    scores (same weights as its score); ``children`` are the ``(expected, weight)`` pairs of
    its child objectives, used as in the ``children`` and ``both`` rollup modes."""
    kids = list(children)
    if mode_children and kids:
        return weighted_mean(kids)
    pairs = [(expected.get(kr.id, 0.0), kr.weight) for kr in counted_krs(krs)]
    if mode_both:
        return weighted_mean(pairs + kids)
    return weighted_mean(pairs)


def suggester(*, yellow_gap: float = 0.15, red_gap: float = 0.30,
              ) -> Callable[[float, float], TrafficLight]:
    """:func:`suggest_status` with its gaps bound: ``suggest(score, expected)``, for loops
    that suggest a light for every KR of a cycle (a keyword call per KR costs as much as
    the rule itself)."""
    yellow, red = yellow_gap - EPS, red_gap - EPS

    def suggest(score: float, expected: float) -> TrafficLight:
        return _light(score, expected, yellow, red)

    return suggest


def objective_light(
    objective: ObjectiveFacts, score: float, expected: float,
    kr_lights: Sequence[TrafficLight], *, rule: ObjectiveStatusRule = ObjectiveStatusRule.WEIGHTED,
    yellow_gap: float = 0.15, red_gap: float = 0.30,
) -> TrafficLight:
    """An objective's light (see the module docstring).

    ``kr_lights`` are the effective lights of its counted KRs (used by ``worst``, and by
    ``worst`` only); ``expected`` is :func:`weighted_expected`.
    """
    suggested = suggest_status(score, expected, yellow_gap=yellow_gap, red_gap=red_gap)
    if rule == ObjectiveStatusRule.WORST:
        return objective_status(kr_lights, default=suggested)
    if suggested == TrafficLight.GREEN and any(
            kr.declared_status == TrafficLight.RED for kr in counted_krs(objective.key_results)):
        return TrafficLight.YELLOW  # a declared red caps it
    return suggested


def status_mismatch(
    declared: TrafficLight | None, score: float, expected: float, *, gap: float = 0.25
) -> str | None:
    """Why a declared status looks off against pace, or None when it does not.

    Declared green while ``expected - score >= gap`` is "behind pace"; declared red while
    ``score - expected >= gap`` is "ahead of pace" (same 1e-9 tolerance as
    :func:`suggest_status`). Yellow, or no declaration, never mismatches. The declaration
    still stands; this only flags it for a conversation.
    """
    if declared == TrafficLight.GREEN and expected - score >= gap - EPS:
        return BEHIND_PACE
    if declared == TrafficLight.RED and score - expected >= gap - EPS:
        return AHEAD_OF_PACE
    return None
