"""No token in a log line: the filter configure_logging installs masks them everywhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from app import log_redaction
from app.bootstrap import configure_logging

TOKENS = ["xoxb-1234-5678-abcdefgh", "xoxp-1-2-3-abcd", "xoxe-1-My0xLTEyMzQtNTY3OA",
          "xoxe.xoxb-1-MS0yLTEyMzQ", "xapp-1-A0123-456-abcdef", "ghp_" + "a" * 36,
          "glpat-abcdefghij0123456789", "okr_" + "Q" * 43]


class JsonFormatter(logging.Formatter):
    """Like a structured log pipeline: extra fields end up in the line."""

    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in log_redaction.STANDARD_ATTRS}
        return json.dumps({"msg": record.getMessage(), "exc": record.exc_text, **extras},
                          default=str)


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    logging.getLogger("okr.test").setLevel(logging.INFO)
    try:
        configure_logging("INFO")
        yield stream
    finally:
        root.removeHandler(handler)


def test_tokens_are_masked_in_messages_args_extras_and_tracebacks(captured: io.StringIO) -> None:
    log = logging.getLogger("okr.test")
    for token in TOKENS:
        log.info("saved %s", token, extra={"token": token, "nested": {"t": [token]},
                                           "hdr": f"Bearer {token}"})
        try:
            raise ValueError(f"bad token {token}")
        except ValueError:
            log.exception("failed")
    out = captured.getvalue()
    assert out.count(log_redaction.MASK) >= len(TOKENS) * 5
    for token in TOKENS:
        assert token not in out and token[:12] not in out, token


def test_ordinary_words_are_left_alone(captured: io.StringIO) -> None:
    logging.getLogger("okr.test").info("okr_open_checkin xoxo- team T0TEST kr-inc",
                                       extra={"action": "okr_open_checkin"})
    out = captured.getvalue()
    assert "okr_open_checkin xoxo- team T0TEST kr-inc" in out and log_redaction.MASK not in out
