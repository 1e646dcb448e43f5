"""The two log formats: both carry the extra fields and mask tokens, tracebacks included."""

from __future__ import annotations

import io
import json
import logging

import pytest
from click.testing import CliRunner

from app.cli import main
from app.log_format import formatter
from app.log_redaction import RedactTokens

TOKEN = "xoxb-1234-5678-abcdefabcdef"


def _logged(fmt: str) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(RedactTokens())
    log = logging.getLogger("tests.ops.format")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("auth failed for %s", TOKEN, extra={"delivery_id": 7, "token": TOKEN})
        try:
            raise RuntimeError(f"Slack said no to {TOKEN}")
        except RuntimeError:
            log.exception("delivery.row_failed", extra={"delivery_id": 8})
    finally:
        log.removeHandler(handler)
        log.propagate = True
    return stream.getvalue()


def test_json_lines_parse_and_hold_the_extra_fields_without_a_token() -> None:
    out = _logged("json")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["message"] == "auth failed for [redacted]"
    assert (first["level"], first["logger"], first["delivery_id"]) == \
        ("WARNING", "tests.ops.format", 7)
    assert first["token"] == "[redacted]"
    assert second["delivery_id"] == 8 and "RuntimeError" in second["exc_info"]
    assert "xoxb-" not in out


def test_text_lines_carry_the_extra_fields_without_a_token() -> None:
    out = _logged("text")
    assert " WARNING tests.ops.format auth failed for [redacted] delivery_id=7 " \
           "token=[redacted]" in out
    assert "delivery.row_failed delivery_id=8\nTraceback" in out
    assert "xoxb-" not in out


def test_a_bad_log_format_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("OKR_LOG_FORMAT", "xml")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "OKR_LOG_FORMAT must be 'text' or 'json'" in result.output
    assert "Traceback" not in result.output
