"""A cycle's phase on a local date: the stored phase read against the cycle's dates. Pure."""

from __future__ import annotations

from datetime import date

from app.domain import CyclePhase


def effective_phase(stored: str, start: date, end: date, day: date) -> CyclePhase:
    """The phase of a cycle on a local date.

    An explicit ``closed`` or ``review`` wins. ``planning`` (the default of a new cycle) holds
    until the start date, then the cycle runs: a cycle whose dates have come is not a draft.
    ``active`` past the end date reads as review: check-in prompts stop with the cycle.
    """
    phase = CyclePhase(stored)
    if phase in (CyclePhase.CLOSED, CyclePhase.REVIEW):
        return phase
    if day < start:
        return CyclePhase.PLANNING
    if day > end:
        return CyclePhase.REVIEW
    return CyclePhase.ACTIVE


def imported_phase(start: date, end: date, today: date) -> CyclePhase:
    """The phase a cycle starts with when a file gives none: by where ``today`` falls."""
    if today < start:
        return CyclePhase.PLANNING
    return CyclePhase.ACTIVE if today <= end else CyclePhase.CLOSED
