"""Error text shown in Slack is escaped once: what the user typed cannot ping or link."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.services.errors import InvalidValue, NotAllowed
from blocks.common import escape, escape_once
from handlers.errors import user_message


def test_escape_once_leaves_slack_escapes_and_escapes_the_rest() -> None:
    assert escape_once("&lt;!channel&gt; & <!here> &amp;") == \
        "&lt;!channel&gt; &amp; &lt;!here&gt; &amp;"


@given(st.text())
def test_escape_once_leaves_no_control_characters(text: str) -> None:
    out = escape_once(text)
    assert "<" not in out and ">" not in out
    assert escape_once(out) == out  # idempotent: never escaped twice
    assert escape_once(escape(text)) == escape(text)


def test_domain_errors_reach_slack_escaped() -> None:
    shown = user_message(InvalidValue("no key result '<!channel> <http://evil.example|x>'"))
    assert "<!channel>" not in shown and "<http" not in shown
    assert "&lt;!channel&gt;" in shown
    assert user_message(NotAllowed("only <@U1> may")).startswith(":no_entry: only &lt;@U1&gt;")
