"""Domain errors raised by services; entrypoints turn them into inline errors or replies."""

from __future__ import annotations


class OkrError(Exception):
    """Base for errors a user can act on: the message is safe to show."""


class NotFound(OkrError):
    pass


class NotAllowed(OkrError):
    pass


class InvalidValue(OkrError):
    """A bad input value. ``field`` names the offending input (a modal block id, a path...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CycleClosed(NotAllowed):
    """A write on a key result or objective of a ``closed`` cycle: closed cycles are read-only
    (an admin may reopen one with ``okr cycle reopen NAME``)."""

    def __init__(self, cycle_name: str) -> None:
        super().__init__(f"{cycle_name} is closed: its objectives and key results no longer "
                         f"change (an admin can reopen it with `okr cycle reopen {cycle_name}`)")
        self.cycle_name = cycle_name
