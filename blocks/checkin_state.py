"""Reading the check-in modal's submission (``view.state.values``) back into answers.

Block and action ids are ``f"{Block.CHECKIN_*}:{kr_key}"`` (see blocks/checkin.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain import CheckinAnswer
from blocks.ids import Block

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


def parse_state(values: Mapping[str, Any]) -> dict[str, CheckinAnswer]:
    """``view.state.values`` -> answers by KR key, in submission order.

    Values come as typed (``value_text``, ``milestone_done``); the service reads them against
    each KR's type. Anything that is not ours (unknown block ids) is ignored; shapes that make
    no sense leave the field unset so the service reports it.
    """
    found: dict[str, dict[str, Any]] = {}
    if not isinstance(values, Mapping):
        return {}
    for block_id, actions in values.items():
        prefix, sep, kr_key = str(block_id).partition(":")
        if not sep or prefix not in _FIELDS or not kr_key or not isinstance(actions, Mapping):
            continue
        action = actions.get(block_id)
        if not isinstance(action, Mapping):
            action = next((a for a in actions.values() if isinstance(a, Mapping)), {})
        found.setdefault(kr_key, {}).update(_read(_FIELDS[prefix], action))
    return {kr_key: CheckinAnswer(kr_key, **fields) for kr_key, fields in found.items()}


def _read(kind: Block, action: Mapping[str, Any]) -> dict[str, Any]:
    """One input's contribution to its KR's answer."""
    if kind == Block.CHECKIN_VALUE:
        if action.get("type") == "checkboxes" or "selected_options" in action:
            return {"milestone_done": _ticked(action, "done")}
        return {"value_text": _text(action)}
    if kind == Block.CHECKIN_STATUS:
        return {"status": _selected(action)}
    if kind == Block.CHECKIN_CONFIDENCE:
        return {"confidence": _selected(action)}
    if kind == Block.CHECKIN_NOTE:
        return {"note": _text(action)}
    if kind == Block.CHECKIN_BLOCKERS:
        return {"blockers": _text(action)}
    return {"no_change": _ticked(action, "same")}


def _ticked(action: Mapping[str, Any], value: str) -> bool:
    chosen = action.get("selected_options") or []
    return any(isinstance(o, Mapping) and o.get("value") == value for o in chosen)
