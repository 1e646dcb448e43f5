"""The check-in prompt DM (and its nudge): the person's open KRs and its buttons.

"Check in" opens the check-in modal (``Action.OPEN_CHECKIN``, value from
``blocks.checkin.open_value``); "No change" (``Action.NO_CHANGE``, shown once a KR has a
check-in to repeat) checks in on the listed KRs at once, its value naming the delivery and
those KRs in the same format; the snooze and skip buttons carry the delivery id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain import KRView
from blocks.checkin import CheckedIn, checked_in_message, open_value
from blocks.common import button, clip, context, escape, kr_line, section
from blocks.ids import Action, Block
from blocks.words import count, first_name, pick, your

MAX_KRS = 10  # a prompt lists at most this many; the modal shows them all
MAX_VALUE = 2000  # a button's value


@dataclass(frozen=True, slots=True)
class PromptView:
    delivery_id: int
    first_name: str
    cycle_name: str
    day: int
    total_days: int
    krs: Sequence[KRView]
    nudge: bool = False


def _first(name: str) -> str:
    return escape(first_name(name))


def prompt_message(view: PromptView) -> dict[str, Any]:
    """``{"text", "blocks"}`` for chat.postMessage."""
    n = len(view.krs)
    krs = your(n, "key result")
    if view.nudge:
        text = (f"A gentle reminder, {_first(view.first_name)}: {krs} still "
                f"{pick(n, 'waits', 'wait')} for this week's check-in.")
    else:
        text = (f"Hi {_first(view.first_name)}, time for your check-in: how "
                f"{pick(n, 'is', 'are')} {krs} going?")
    blocks: list[dict[str, Any]] = [
        section(text),
        context(f"{escape(view.cycle_name)} · day {view.day} of {view.total_days}"),
    ]
    for kr in list(view.krs)[:MAX_KRS]:
        blocks.append(section(kr_line(kr, owner=False, key=False)))
    if n > MAX_KRS:
        blocks.append(context(f"and {n - MAX_KRS} more in the check-in form"))
    did = str(view.delivery_id)
    buttons = [button("Check in", Action.OPEN_CHECKIN.value, open_value(view.delivery_id),
                      style="primary")]
    if any(kr.last_checkin_at is not None for kr in view.krs):
        buttons.append(button("No change", Action.NO_CHANGE.value,
                              no_change_value(view.delivery_id, [k.key for k in view.krs])))
    buttons += [button("Snooze 2 h", Action.SNOOZE_2H.value, did),
                button("Tomorrow", Action.SNOOZE_TOMORROW.value, did),
                button("Skip this week", Action.SKIP_WEEK.value, did)]
    blocks.append({"type": "actions", "block_id": "okr_prompt_actions", "elements": buttons})
    return {"text": text, "blocks": blocks}


def no_change_value(delivery_id: int, kr_keys: Sequence[str]) -> str:
    """The No change button's value: the delivery and the KRs the prompt lists. When they do
    not fit in a button, only the delivery: the server then takes all the person's open KRs."""
    value = open_value(delivery_id, kr_keys)
    if len(kr_keys) > 20 or len(value) > MAX_VALUE:
        return open_value(delivery_id)
    return value


NOTHING_TO_REPEAT = (":information_source: None of these key results has an earlier check-in "
                     "to repeat. Press *Check in* to enter where they stand.")


def no_change_message(done: Sequence[CheckedIn], skipped: Sequence[KRView], *, when: str,
                      delivery_id: int | None) -> dict[str, Any]:
    """What the prompt becomes after "No change": the checked-in summary, and the KRs that
    had nothing to repeat with a Check in button for them."""
    text, blocks = checked_in_message(done, when=when)
    if skipped:
        names = ", ".join(f"*{escape(clip(kr.title, 150))}*" for kr in skipped[:10])
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        n = len(skipped)
        noun = "this key result" if n == 1 else f"these {count(n, 'key result')}"
        note = (f"Not checked in: {names}{more}. There is no earlier check-in to repeat "
                f"for {noun}.")
        keys = [kr.key for kr in skipped]
        value = open_value(delivery_id, keys if len(keys) <= 20 else ())
        if len(value) > MAX_VALUE:
            value = open_value(delivery_id)
        blocks[1:1] = [section(note), {
            "type": "actions", "block_id": str(Block.NO_CHANGE_REST),
            "elements": [button("Check in", Action.OPEN_CHECKIN.value, value,
                                style="primary")]}]
        text = f"{text} {n} not checked in (no earlier check-in to repeat)."
    return {"text": text, "blocks": blocks}


def snoozed_message(when_local: str) -> dict[str, Any]:
    """What the prompt becomes after a snooze (``when_local`` like "Tue 3 Mar, 10:00")."""
    text = f":zzz: Snoozed. I'll ask again {when_local}."
    return {"text": text, "blocks": [section(text)]}


def skipped_message(week_label: str) -> dict[str, Any]:
    text = f":ok_hand: Skipped the week of {week_label}. See you next time."
    return {"text": text, "blocks": [section(text)]}
