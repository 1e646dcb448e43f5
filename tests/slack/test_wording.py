"""The prompt and the checked-in summary in plain words, over the real Bolt app and fake Slack:
one key result reads singular, a count unit agrees with its value, no KR id in lines people
only read, scores as percentages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import KeyResult
from tests.fixtures.slack import Harness
from tests.slack.test_no_change import _no_change_button, _prompt, _seed_checkins, _tap


def test_prompt_and_summary_for_one_key_result(slack: Harness) -> None:
    with slack.session() as s:
        s.scalars(select(KeyResult).where(KeyResult.key == "kr-cy")).one().unit = "deals"
        s.commit()
    _seed_checkins(slack, {"kr-cy": (1.0, "green")}, slack.now - timedelta(days=6))
    _, message = _prompt(slack, "U0CY")
    assert message["text"] == "Hi Cy, time for your check-in: how is your key result going?"
    body = str(message["blocks"])
    assert "0 deals → *1 deal* → 3 deals · 33%" in body
    assert "kr-cy`" not in body and "1 key result" not in body
    req = _tap(slack, "U0CY", _no_change_button(message))
    (reply,) = slack.fake.responses(req.response_key)
    assert reply["text"].startswith(":white_check_mark: Checked in on 1 key result on ")
    assert "*Fix onboarding bugs* · 33%" in str(reply["blocks"])
