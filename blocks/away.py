"""The "Going away" modal opened from the Home tab."""

from __future__ import annotations

from datetime import date
from typing import Any

from blocks.common import plain, section
from blocks.ids import Block, Callback


def away_modal(suggested: date) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": str(Callback.AWAY), "title": plain("Going away", 24),
        "submit": plain("Pause prompts", 24), "close": plain("Cancel", 24),
        "blocks": [
            section("No check-in prompts while you are away. Your key results stay as they are."),
            {"type": "input", "block_id": str(Block.AWAY_UNTIL),
             "label": plain("Last day away"),
             "element": {"type": "datepicker", "action_id": str(Block.AWAY_UNTIL),
                         "initial_date": suggested.isoformat()}},
        ],
    }
