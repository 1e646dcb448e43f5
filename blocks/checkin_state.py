"""Reading the check-in modal's submission (``view.state.values``) back into answers.

Block and action ids are ``f"{Block.CHECKIN_*}:{kr_key}"`` (see blocks/checkin.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blocks.ids import Block


@dataclass
class Answer:
    """One KR's raw answer as submitted; types are checked by the service."""

    kr_key: str
    value_text: str | None = None
    milestone_done: bool | None = None
    status: str | None = None
    confidence: str | None = None
    note: str | None = None
    blockers: str | None = None
    no_change: bool = False
    fields: set[str] = field(default_factory=set)


_FIELDS = {b.value: b for b in (Block.CHECKIN_VALUE, Block.CHECKIN_STATUS,
                                 Block.CHECKIN_CONFIDENCE, Block.CHECKIN_NOTE,
                                 Block.CHECKIN_BLOCKERS, Block.CHECKIN_NO_CHANGE)}


def _selected(action: Mapping[str, Any]) -> str | None:
    opt = action.get("selected_option")
    if isinstance(opt, Mapping) and isinstance(opt.get("value"), str):
        return str(opt["value"])
    return None


def _text(action: Mapping[str, Any]) -> str | None:
    value = action.get("value")
    if value is None:
        return None
    return str(value).strip() or None


def parse_state(values: Mapping[str, Any]) -> dict[str, Answer]:
    """``view.state.values`` -> answers by KR key, in submission order.

    Anything that is not ours (unknown block ids) is ignored; shapes that make no sense leave
    the field unset so the service reports it.
    """
    answers: dict[str, Answer] = {}
    if not isinstance(values, Mapping):
        return answers
    for block_id, actions in values.items():
        prefix, sep, kr_key = str(block_id).partition(":")
        if not sep or prefix not in _FIELDS or not kr_key or not isinstance(actions, Mapping):
            continue
        action = actions.get(block_id)
        if not isinstance(action, Mapping):
            action = next((a for a in actions.values() if isinstance(a, Mapping)), {})
        a = answers.setdefault(kr_key, Answer(kr_key))
        kind = _FIELDS[prefix]
        a.fields.add(prefix)
        if kind == Block.CHECKIN_VALUE:
            if action.get("type") == "checkboxes" or "selected_options" in action:
                chosen = action.get("selected_options") or []
                a.milestone_done = any(isinstance(o, Mapping) and o.get("value") == "done"
                                       for o in chosen)
            else:
                a.value_text = _text(action)
        elif kind == Block.CHECKIN_STATUS:
            a.status = _selected(action)
        elif kind == Block.CHECKIN_CONFIDENCE:
            a.confidence = _selected(action)
        elif kind == Block.CHECKIN_NOTE:
            a.note = _text(action)
        elif kind == Block.CHECKIN_BLOCKERS:
            a.blockers = _text(action)
        elif kind == Block.CHECKIN_NO_CHANGE:
            chosen = action.get("selected_options") or []
            a.no_change = any(isinstance(o, Mapping) and o.get("value") == "same"
                              for o in chosen)
    return answers
