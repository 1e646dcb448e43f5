"""Pace through a cycle, suggested traffic lights and declared-status checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from app.domain import CycleWindow, KRFacts, TrafficLight
from scoring._num import EPS
from scoring.rollups import counted_krs

BEHIND_PACE = "declared green but behind pace"
AHEAD_OF_PACE = "declared red but ahead of pace"


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
    if score >= 1.0 - EPS:
        return TrafficLight.GREEN
    gap = expected - score
    if gap < yellow_gap - EPS:
        return TrafficLight.GREEN
    if gap < red_gap - EPS:
        return TrafficLight.YELLOW
    return TrafficLight.RED


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
