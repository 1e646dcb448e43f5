"""No token in a log line: a filter on every handler that masks credentials.

Slack tokens (``xoxb-``, ``xoxp-``, ``xoxe-`` refresh tokens, ``xoxe.xoxb-`` rotating tokens,
``xapp-`` app tokens, ...), tracker tokens (GitHub ``ghp_``/``github_pat_``, GitLab
``glpat-``), our own API tokens (``okr_...``) and ``Bearer`` credentials are replaced by
``[redacted]`` in the message, its arguments, extra fields and the formatted traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[redacted]"

TOKEN_PATTERN = re.compile(
    r"(?:xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{4,}"
    r"|xapp-[A-Za-z0-9-]{4,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_-]{16,}"
    r"|okr_[A-Za-z0-9_-]{32,})"
    r"|(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}",
    re.IGNORECASE,
)

# Attributes every LogRecord has; anything else came in through ``extra=``.
STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return TOKEN_PATTERN.sub(MASK, text)


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact(value)
    if depth > 4:
        return value
    if isinstance(value, dict):
        return {k: _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(v, depth + 1) for v in value)
    return value


class RedactTokens(logging.Filter):
    """Masks credentials in a record before any handler formats it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error path
            return True
        record.msg, record.args = redact(message), None
        for name, value in list(vars(record).items()):
            if name not in STANDARD_ATTRS:
                setattr(record, name, _clean(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of ``logger`` (default the root logger), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
