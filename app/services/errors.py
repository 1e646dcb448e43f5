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
