"""The DM prompt's No change button and what the prompt becomes after it."""

from __future__ import annotations

import json

from app.domain import TrafficLight
from blocks import checkin, prompt
from blocks.ids import Action, Block
from tests.slack.blockkit import validate_message
from tests.unit.blocks.test_limits import LONG, kr


def _view(krs: list[object]) -> prompt.PromptView:
    return prompt.PromptView(delivery_id=42, first_name="Kenji Sato", cycle_name="FY27-Q1",
                             day=30, total_days=89, krs=krs)  # type: ignore[arg-type]


def _buttons(message: dict[str, object]) -> dict[str, dict[str, str]]:
    blocks = message["blocks"]
    assert isinstance(blocks, list)
    actions = next(b for b in blocks if b["type"] == "actions")
    return {a["action_id"]: a for a in actions["elements"]}


def test_no_change_names_the_delivery_and_the_listed_krs() -> None:
    krs = [kr(1), kr(2, last_checkin_at=None)]
    message = prompt.prompt_message(_view(krs))
    assert validate_message(message) == []
    buttons = _buttons(message)
    assert list(buttons) == [str(Action.OPEN_CHECKIN), str(Action.NO_CHANGE),
                             str(Action.SNOOZE_2H), str(Action.SNOOZE_TOMORROW),
                             str(Action.SKIP_WEEK)]
    wanted = checkin.parse_open_value(buttons[str(Action.NO_CHANGE)]["value"])
    assert wanted == checkin.OpenRequest(42, (krs[0].key, krs[1].key))


def test_no_change_only_when_something_can_be_repeated() -> None:
    message = prompt.prompt_message(_view([kr(1, last_checkin_at=None)]))
    assert str(Action.NO_CHANGE) not in _buttons(message)


def test_many_krs_fall_back_to_the_delivery_alone() -> None:
    krs = [kr(i) for i in range(25)]  # keys of 80+ characters: they do not fit in a button
    message = prompt.prompt_message(_view(krs))
    assert validate_message(message) == []
    value = _buttons(message)[str(Action.NO_CHANGE)]["value"]
    assert json.loads(value) == {"d": 42}
    assert len(prompt.no_change_value(42, [k.key for k in krs[:18]])) <= 2000


def test_summary_after_no_change_lists_what_was_skipped_within_limits() -> None:
    done = [checkin.CheckedIn(LONG, TrafficLight.YELLOW, 0.4) for _ in range(40)]
    skipped = [kr(i, title=LONG) for i in range(15)]
    message = prompt.no_change_message(done, skipped, when="on Mon 2 Mar, 10:00",
                                       delivery_id=42)
    assert validate_message(message) == []
    assert "15 not checked in" in str(message["text"])
    rest = next(b for b in message["blocks"] if b.get("block_id") == str(Block.NO_CHANGE_REST))
    assert rest["elements"][0]["action_id"] == str(Action.OPEN_CHECKIN)
    assert "and 5 more" in str(message["blocks"])
    plain = prompt.no_change_message(done[:3], [], when="today", delivery_id=None)
    assert plain["text"] == ":white_check_mark: Checked in on 3 key results today."
    assert str(Block.NO_CHANGE_REST) not in str(plain["blocks"])
