"""How a log line looks: ``text`` (the default) or ``json`` (``OKR_LOG_FORMAT``).

Both carry the ``extra=`` fields of a record: text appends them as ``key=value`` after the
message, JSON (python-json-logger) makes them keys of the object, one object per line. The
token filter (``app.log_redaction``) runs on the handler before either formats; tracebacks
are masked again here because the JSON formatter formats them itself.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from app import log_redaction

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in log_redaction.STANDARD_ATTRS}


class TextFormatter(logging.Formatter):
    """The plain line, with the record's ``extra=`` fields after the message."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        return f"{line} {fields}" if fields else line


class JsonLines(JsonFormatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message and the extra
    fields."""

    def __init__(self) -> None:
        super().__init__("{levelname}{name}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"})

    def formatException(self, ei: Any) -> str:
        return log_redaction.redact(str(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:
        return log_redaction.redact(str(super().formatStack(stack_info)))


def formatter(fmt: str) -> logging.Formatter:
    return JsonLines() if fmt == "json" else TextFormatter()
