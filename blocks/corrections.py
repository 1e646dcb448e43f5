"""Correcting a check-in in Slack: the Edit and Undo buttons, the Edit modal's metadata, and
the App Home list of someone's recent check-ins.

Buttons are ``f"{Action.EDIT_CHECKIN}:{id}"`` / ``f"{Action.UNDO_CHECKIN}:{id}"`` with the
check-in id as their value; a summary's line for a check-in has block id
``f"{Block.CHECKIN_DONE}:{id}"``, so a summary handed back by Slack names its check-ins
(:func:`summary_ids`) and can be redrawn after a correction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain import CheckinEntry, TrafficLight
from blocks.common import button, clip, context, escape, header, pct, section
from blocks.ids import Action, Block

MAX_FIXABLE = 10  # summary lines with buttons (two blocks each, and within 12,000 chars)
MAX_SHOWN = 20  # ids kept in the Edit modal's metadata to redraw its summary


def fix_buttons(checkin_id: int, *, can_undo: bool) -> dict[str, Any]:
    """Edit and Undo for one check-in (an actions block)."""
    elements = [button("Edit", f"{Action.EDIT_CHECKIN}:{checkin_id}", str(checkin_id))]
    if can_undo:
        elements.append(button("Undo", f"{Action.UNDO_CHECKIN}:{checkin_id}", str(checkin_id)))
    return {"type": "actions", "block_id": f"{Block.CHECKIN_FIX}:{checkin_id}",
            "elements": elements}


def summary_ids(blocks: Sequence[dict[str, Any]]) -> list[int]:
    """The check-in ids a summary (as Slack hands it back) lists, in order."""
    out: list[int] = []
    for b in blocks:
        prefix, _, rest = str(b.get("block_id") or "").partition(":")
        if prefix == Block.CHECKIN_DONE and rest.isdigit():
            out.append(int(rest))
    return out


def checkin_id(value: str | None) -> int | None:
    """A button's check-in id (None when the value is not one)."""
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


@dataclass(frozen=True, slots=True)
class CorrectMeta:
    """The Edit modal's private_metadata: the check-in, and the summary to redraw after."""

    checkin_id: int
    channel: str | None = None
    ts: str | None = None
    shown: tuple[int, ...] = ()

    def encode(self) -> str:
        data = {"i": self.checkin_id, "c": self.channel, "t": self.ts,
                "s": list(self.shown[:MAX_SHOWN])}
        return json.dumps({k: v for k, v in data.items() if v not in (None, [])},
                          separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | None) -> CorrectMeta | None:
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            return None
        if not isinstance(data, dict) or checkin_id(str(data.get("i", ""))) is None:
            return None

        def s(v: Any) -> str | None:
            return str(v)[:64] if isinstance(v, str) and v else None

        shown = data.get("s")
        ids = tuple(i for i in shown[:MAX_SHOWN] if isinstance(i, int)) \
            if isinstance(shown, list) else ()
        return cls(checkin_id=int(data["i"]), channel=s(data.get("c")), ts=s(data.get("t")),
                   shown=ids)


def _recent_line(e: CheckinEntry) -> str:
    lights = {t.value: t for t in TrafficLight}
    light = lights.get(e.status or "")
    value = pct(e.score) if e.score is not None else "–"
    return (f"{light.emoji if light else ':white_circle:'} *{escape(clip(e.kr_title, 150))}*"
            f" · {value}")


def recent_blocks(entries: Sequence[CheckinEntry], *, limit: int = 5) -> list[dict[str, Any]]:
    """App Home's "Recent check-ins": each with Edit, and Undo within its window."""
    if not entries:
        return []
    blocks: list[dict[str, Any]] = [header("My recent check-ins")]
    for e in entries[:limit]:
        blocks.append(section(_recent_line(e), block_id=f"{Block.CHECKIN_DONE}:{e.id}"))
        blocks.append(fix_buttons(e.id, can_undo=e.can_undo))
    blocks.append(context("Edit a check-in to correct it; Undo works for 24 hours."))
    return blocks
