"""Direction of a score between two check-ins or digests."""

from __future__ import annotations

from typing import Literal

from scoring._num import EPS

Trend = Literal["up", "down", "flat"]

_ARROWS: dict[Trend, str] = {"up": "↑", "down": "↓", "flat": "→"}


def trend(previous_score: float | None, current_score: float, eps: float = 0.01) -> Trend:
    """``up`` / ``down`` when the score moved by more than ``eps``, else ``flat``.

    A move of exactly ``eps`` (within 1e-9, so 0.51 after 0.50 counts as exactly 0.01) is
    flat. With no previous score there is nothing to compare: flat.
    """
    if previous_score is None:
        return "flat"
    delta = current_score - previous_score
    if delta > eps + EPS:
        return "up"
    if delta < -eps - EPS:
        return "down"
    return "flat"


def trend_arrow(direction: Trend) -> str:
    """A one-character arrow for a trend: ↑, ↓ or →."""
    return _ARROWS[direction]
