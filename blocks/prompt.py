"""The check-in prompt DM (and its nudge): the person's open KRs and four buttons.

"Check in" opens the check-in modal (``Action.OPEN_CHECKIN``, value from
``blocks.checkin.open_value``); the snooze and skip buttons carry the delivery id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain import KRView
from blocks.checkin import open_value
from blocks.common import button, clip, context, escape, kr_line, section
from blocks.ids import Action

MAX_KRS = 10  # a prompt lists at most this many; the modal shows them all


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
    return escape(clip((name or "").split(" ")[0], 40)) or "there"


def prompt_message(view: PromptView) -> dict[str, Any]:
    """``{"text", "blocks"}`` for chat.postMessage."""
    n = len(view.krs)
    krs = f"{n} key result{'s' if n != 1 else ''}"
    if view.nudge:
        text = f"A gentle reminder, {_first(view.first_name)}: your {krs} still wait for " \
               f"this week's check-in."
    else:
        text = f"Hi {_first(view.first_name)}, time for your check-in: how are your {krs} " \
               f"going?"
    blocks: list[dict[str, Any]] = [
        section(text),
        context(f"{escape(view.cycle_name)} · day {view.day} of {view.total_days}"),
    ]
    for kr in list(view.krs)[:MAX_KRS]:
        blocks.append(section(kr_line(kr, owner=False)))
    if n > MAX_KRS:
        blocks.append(context(f"and {n - MAX_KRS} more in the check-in form"))
    did = str(view.delivery_id)
    blocks.append({"type": "actions", "block_id": "okr_prompt_actions", "elements": [
        button("Check in", Action.OPEN_CHECKIN.value, open_value(view.delivery_id),
               style="primary"),
        button("Snooze 2 h", Action.SNOOZE_2H.value, did),
        button("Tomorrow", Action.SNOOZE_TOMORROW.value, did),
        button("Skip this week", Action.SKIP_WEEK.value, did),
    ]})
    return {"text": text, "blocks": blocks}


def snoozed_message(when_local: str) -> dict[str, Any]:
    """What the prompt becomes after a snooze (``when_local`` like "Tue 3 Mar, 10:00")."""
    text = f":zzz: Snoozed. I'll ask again {when_local}."
    return {"text": text, "blocks": [section(text)]}


def skipped_message(week_label: str) -> dict[str, Any]:
    text = f":ok_hand: Skipped the week of {week_label}. See you next time."
    return {"text": text, "blocks": [section(text)]}
