"""One tap from the DM: the prompt's No change button over the real Bolt app and fake Slack."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.domain import CheckinAnswer, CheckinSource
from app.models import Delivery, KeyResult
from app.services.checkins import record
from blocks.ids import Action, Block
from tests.fixtures.scheduler import Clock, make_settings
from tests.fixtures.slack import Harness
from tests.slack import seed
from tests.slackreq import SignedRequest


def _seed_checkins(slack: Harness, answers: dict[str, tuple[float, str]], at: datetime) -> None:
    """Earlier check-ins (before the prompt's skip window), as the CLI would record them."""
    with slack.session() as s:
        for key, (value, status) in answers.items():
            kr = s.scalars(select(KeyResult).where(KeyResult.key == key)).one()
            kr_type = kr.kr_type
            data = CheckinAnswer(kr_key=key, status=status,
                                 **({"score": value} if kr_type == "manual" else {"value": value}))
            record.record(session=s, workspace_id=kr.workspace_id, kr=kr, data=data,
                          author_id=kr.owner_id, actor_label="cli", source=CheckinSource.CLI,
                          now=at)
        s.commit()


def _prompt(slack: Harness, user: str) -> tuple[Delivery, dict[str, Any]]:
    """Tick the scheduler (Monday 10:00 in Berlin) and return the prompt it posted."""
    Clock(slack.session_factory, make_settings(slack.fake)).tick(
        slack.now + timedelta(minutes=1))
    with slack.session() as s:
        row = s.scalars(select(Delivery).where(Delivery.kind == "prompt",
                                               Delivery.target == user)).one()
    (call,) = [c for c in slack.fake.calls_to("chat.postMessage")
               if c.params["channel"] == user]
    return row, call.params


def _no_change_button(message: dict[str, Any]) -> dict[str, Any]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    return next(a for a in actions if a["action_id"] == str(Action.NO_CHANGE))


def _tap(slack: Harness, user: str, button: dict[str, Any]) -> SignedRequest:
    req = slack.req.button(user, Action.NO_CHANGE, button["value"], channel=f"D{user}",
                           message_ts="1700000000.000100")
    slack.send(req)
    return req


def _cy_with_three_krs(slack: Harness) -> None:
    with slack.session() as s:
        org = seed.Org(workspace=slack.org.workspace, people=slack.org.people,
                       teams=slack.org.teams, cycle=slack.org.cycle)
        for p in org.people.values():
            s.merge(p)
        seed.objective(s, org, "cy-more", "Cy's quality push", owner="U0CY", now=slack.now,
                       krs=[{"key": "kr-cy-ms", "title": "Ship the test farm",
                             "kr_type": "milestone"},
                            {"key": "kr-cy-man", "title": "Happy testers",
                             "kr_type": "manual"}])
        s.commit()


def test_three_unchanged_krs_checked_in_with_one_tap(slack: Harness) -> None:
    _cy_with_three_krs(slack)
    _seed_checkins(slack, {"kr-cy": (2.0, "yellow"), "kr-cy-ms": (0.0, "green"),
                           "kr-cy-man": (0.4, "red")}, slack.now - timedelta(days=6))
    _, message = _prompt(slack, "U0CY")
    taps = 0
    req = _tap(slack, "U0CY", _no_change_button(message))
    taps += 1
    print(f"interactions to check in 3 unchanged KRs: {taps} tap")
    latest = {c.kr_id: c for c in slack.checkins() if c.at == slack.now}
    assert len(latest) == 3
    with slack.session() as s:
        krs = {kr.id: kr for kr in s.scalars(select(KeyResult))}
    got = {krs[c.kr_id].key: (c.value, c.score, c.status, c.note, c.source)
           for c in latest.values()}
    assert got == {"kr-cy": (2.0, got["kr-cy"][1], "yellow", "no change", "slack"),
                   "kr-cy-ms": (0.0, 0.0, "green", "no change", "slack"),
                   "kr-cy-man": (None, 0.4, "red", "no change", "slack")}
    assert krs[next(k for k, v in krs.items() if v.key == "kr-cy-man")].manual_score == 0.4
    (reply,) = slack.fake.responses(req.response_key)
    assert reply["replace_original"] is True
    assert reply["text"].startswith(":white_check_mark: Checked in on 3 key results on ")
    body = str(reply["blocks"])
    assert "Fix onboarding bugs" in body and "Happy testers" in body
    assert str(Block.NO_CHANGE_REST) not in body  # nothing was left out
    home = slack.fake.home("U0CY")
    assert home is not None


def test_double_tap_records_once(slack: Harness) -> None:
    _seed_checkins(slack, {"kr-cy": (1.0, "green")}, slack.now - timedelta(days=6))
    _, message = _prompt(slack, "U0CY")
    button = _no_change_button(message)
    first, again = _tap(slack, "U0CY", button), _tap(slack, "U0CY", button)
    assert len(slack.checkins("kr-cy")) == 2  # the seeded one and one "no change"
    # The second tap shows the same summary instead of an error.
    assert slack.fake.responses(again.response_key)[0]["text"] == \
        slack.fake.responses(first.response_key)[0]["text"]


def test_krs_never_checked_in_are_skipped_and_said(slack: Harness) -> None:
    _seed_checkins(slack, {"kr-inc": (20.0, "yellow"), "kr-dec": (9.0, "green"),
                           "kr-pct": (40.0, "red")}, slack.now - timedelta(days=6))
    _, message = _prompt(slack, "U0BOB")
    req = _tap(slack, "U0BOB", _no_change_button(message))
    new = [c for c in slack.checkins() if c.at == slack.now]
    assert sorted((c.value, c.status) for c in new) == [(9.0, "green"), (20.0, "yellow"),
                                                        (40.0, "red")]
    (reply,) = slack.fake.responses(req.response_key)
    assert "Checked in on 3 key results" in reply["text"]
    assert "2 not checked in" in reply["text"]
    rest = next(b for b in reply["blocks"] if b.get("block_id") == str(Block.NO_CHANGE_REST))
    (button,) = rest["elements"]
    assert button["action_id"] == str(Action.OPEN_CHECKIN)
    assert '"k":["kr-ms","kr-man"]' in button["value"]
    body = str(reply["blocks"])
    assert "Ship the walkthrough" in body and "Delight users" in body
    assert "no earlier check-in to repeat" in body


def test_nothing_to_repeat_keeps_the_prompt(slack: Harness) -> None:
    """Without any earlier check-in the prompt has no No change button; a forged tap
    records nothing and says why, leaving the prompt as it was."""
    row, message = _prompt(slack, "U0CY")
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    assert str(Action.NO_CHANGE) not in [a["action_id"] for a in actions]
    req = _tap(slack, "U0CY", {"value": f'{{"d":{row.id}}}'})
    (reply,) = slack.fake.responses(req.response_key)
    assert reply["replace_original"] is False
    assert "has an earlier check-in to repeat" in reply["text"]
    assert slack.checkins() == []


def test_a_tap_only_checks_in_on_my_own_krs(slack: Harness) -> None:
    """The button names Bob's KRs; Cy pressing it (a forged value) touches only Cy's."""
    _seed_checkins(slack, {"kr-inc": (20.0, "yellow"), "kr-cy": (1.0, "green")},
                   slack.now - timedelta(days=6))
    row, _ = _prompt(slack, "U0BOB")
    req = _tap(slack, "U0CY", {"value": f'{{"d":{row.id},"k":["kr-inc","kr-cy"]}}'})
    assert [c.note for c in slack.checkins("kr-inc")] == [None]
    assert [c.note for c in slack.checkins("kr-cy")] == [None, "no change"]
    assert "Checked in on 1 key result " in slack.fake.responses(req.response_key)[0]["text"]
