"""Turning failures into something the user can read, and logging them for operators."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from app.services.errors import InvalidValue, NotAllowed, NotFound, OkrError
from blocks.common import escape_once

log = logging.getLogger(__name__)

OOPS = (":warning: Something went wrong on our side and nothing was changed. "
        "Please try again in a minute.")


def user_message(exc: BaseException) -> str:
    """A message safe to show: the domain error's own words (escaped: they may quote what the
    user typed, a cycle's or a KR's name), or a generic apology."""
    if isinstance(exc, NotAllowed):
        return f":no_entry: {escape_once(str(exc))}"
    if isinstance(exc, NotFound | InvalidValue | OkrError):
        return f":warning: {escape_once(str(exc))}"
    if isinstance(exc, SlackApiError):
        return ":warning: Slack refused that request. Please try again in a minute."
    return OOPS


def log_failure(event: str, exc: BaseException, **extra: Any) -> None:
    """Domain errors are expected (info); Slack and other errors are not (error + trace)."""
    if isinstance(exc, OkrError):
        log.info(event, extra={**extra, "error": type(exc).__name__})
    elif isinstance(exc, SlackApiError):
        err = exc.response.get("error") if exc.response is not None else None
        log.error(event, extra={**extra, "slack_error": err})
    else:
        log.exception(event, extra=extra)
