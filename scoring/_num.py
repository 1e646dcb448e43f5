"""Small numeric helpers shared by the scoring modules."""

from __future__ import annotations

from collections.abc import Iterable

# Thresholds such as 0.15 or 0.7 are not exact in binary floating point, so a gap computed as
# 0.45 - 0.3 lands a hair above 0.15. Comparisons against configured thresholds treat values
# within EPS of a boundary as sitting exactly on it.
EPS = 1e-9


def clamp01(value: float) -> float:
    """Clamp to [0, 1]; NaN becomes 0 so bad input can never leak out as a score."""
    if not value >= 0.0:  # also true for NaN
        return 0.0
    return 1.0 if value > 1.0 else value


def weighted_mean(pairs: Iterable[tuple[float, float]]) -> float:
    """Mean of ``(value, weight)`` pairs.

    Weights that are not positive count as zero. When every weight is zero the plain mean is
    used, so a set of items still has a score; no items at all gives 0.0.
    """
    total_weight = 0.0
    weighted = 0.0
    plain = 0.0
    count = 0
    for value, weight in pairs:
        count += 1
        plain += value
        if weight > 0.0:
            total_weight += weight
            weighted += value * weight
    if total_weight > 0.0:
        return weighted / total_weight
    return plain / count if count else 0.0
