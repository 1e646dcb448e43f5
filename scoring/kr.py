"""Score of one key result, by type.

Every type first yields a *raw progress* (:func:`kr_progress`), which may fall outside [0, 1]
for measured types (overshooting a target, sliding back past the start); the score is that
progress clamped to [0, 1] (:func:`kr_score`). Keeping the raw figure lets reports say "140%
of target" while rollups only ever see bounded scores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.domain import KRFacts, KRType
from scoring._num import clamp01, weighted_mean


def _linear(kr: KRFacts) -> float:
    # increase and decrease share one formula: the sign of (target - start) sets the direction.
    current, start, target = kr.current, kr.start, kr.target
    if current is None or start is None or target is None:
        return 0.0
    span = target - start
    if span == 0:
        # No distance to cover: done once the value is at (or beyond) the target.
        reached = current >= target if kr.kr_type == KRType.INCREASE else current <= target
        return 1.0 if reached else 0.0
    progress = (current - start) / span
    return progress if progress == progress else 0.0  # NaN from infinities


def _above(kr: KRFacts) -> float:
    if kr.current is None or kr.target is None:
        return 0.0
    return 1.0 if kr.current >= kr.target else 0.0


def _below(kr: KRFacts) -> float:
    if kr.current is None or kr.target is None:
        return 0.0
    return 1.0 if kr.current <= kr.target else 0.0


def _percent(kr: KRFacts) -> float:
    if kr.current is None or kr.current != kr.current:
        return 0.0
    return kr.current / 100.0


def _milestone(kr: KRFacts) -> float:
    return 1.0 if kr.current is not None and kr.current >= 1 else 0.0


def _manual(kr: KRFacts) -> float:
    score = kr.manual_score
    if score is None or score != score:
        return 0.0
    return score


def _issues(kr: KRFacts) -> float:
    if not kr.issues:
        return 0.0
    return weighted_mean((1.0 if issue.closed else 0.0, issue.weight) for issue in kr.issues)


_BY_TYPE: dict[KRType, Callable[[KRFacts], float]] = {
    KRType.INCREASE: _linear,
    KRType.DECREASE: _linear,
    KRType.ABOVE: _above,
    KRType.BELOW: _below,
    KRType.PERCENT: _percent,
    KRType.MILESTONE: _milestone,
    KRType.MANUAL: _manual,
    KRType.ISSUES: _issues,
}


def kr_progress(kr: KRFacts, child_scores: Iterable[tuple[float, float]] = ()) -> float:
    """Raw progress of a KR: unclamped, so it may be below 0 or above 1.

    * ``increase`` / ``decrease``: ``(current - start) / (target - start)``; 0 with no value
      yet or a missing start/target; when start equals target, 1 once the target is reached.
    * ``above`` / ``below``: 1 when ``current`` is on the right side of ``target``
      (inclusive), else 0; 0 with no value or no threshold.
    * ``percent``: ``current / 100``. ``milestone``: 1 when ``current >= 1``, else 0.
    * ``manual``: ``manual_score`` (0 when unset).
    * ``issues``: closed weight / total weight of the linked issues (0 with none).
    * ``children``: weighted mean of ``child_scores``, the ``(score, weight)`` pairs of the
      objectives aligned to the KR (0 with none). :func:`scoring.rollup` supplies them.
    """
    if kr.kr_type == KRType.CHILDREN:
        return weighted_mean(child_scores)
    return _BY_TYPE[kr.kr_type](kr)


def kr_score(kr: KRFacts, child_scores: Iterable[tuple[float, float]] = ()) -> float:
    """The KR's score in [0, 1]: :func:`kr_progress` clamped."""
    return clamp01(kr_progress(kr, child_scores))
