"""The Edit modal: the check-in modal for one KR, opened with one check-in's values.

It is :func:`blocks.checkin.modal` for that KR with the entry's value (or score), status,
confidence, note and blockers as initial values, without "no change" (an edit states what
was meant), under its own callback id (``Callback.CORRECT_CHECKIN``) and with
:class:`~blocks.corrections.CorrectMeta` as its private_metadata. Its submission reads back
with :func:`blocks.checkin.parse_state` like any check-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.domain import CheckinEntry, KRType, KRView
from blocks.checkin import DEFAULT_FIELDS, CheckinMeta, bid, modal
from blocks.common import clip, plain, section
from blocks.corrections import CorrectMeta
from blocks.ids import Block, Callback


def _initial(el: dict[str, Any], value: str | None) -> None:
    """Preselect ``value`` among a select's or radio's options (or clear the choice)."""
    el.pop("initial_option", None)
    for opt in el.get("options", []):
        if value is not None and opt.get("value") == value:
            el["initial_option"] = opt


def _text(el: dict[str, Any], value: str | None) -> None:
    el.pop("initial_value", None)
    if value:
        el["initial_value"] = clip(value, int(el.get("max_length") or 3000))


def edit_modal(kr: KRView, entry: CheckinEntry, *, meta: CorrectMeta,
               fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, Any]:
    """The check-in modal for ``kr`` (with the workspace's ``fields``) as ``entry`` left it."""
    held = replace(kr, current=entry.value if kr.kr_type != KRType.MANUAL else kr.current,
                   score=entry.score if kr.kr_type == KRType.MANUAL and entry.score is not None
                   else kr.score, last_blockers=entry.blockers, last_note=entry.note)
    view = modal([held], meta=CheckinMeta(), fields=fields)
    blocks = [section("Correct this check-in: the earlier entry stays in the history, "
                      "marked as corrected.")]
    for i, b in enumerate(view["blocks"]):
        if i == 0 and b.get("type") == "section" and not b.get("block_id"):
            continue  # the check-in modal's own intro
        block_id = str(b.get("block_id") or "")
        if block_id == bid(Block.CHECKIN_NO_CHANGE, kr.key):
            continue
        el = b.get("element") or {}
        if block_id == bid(Block.CHECKIN_STATUS, kr.key):
            _initial(el, entry.status)
        elif block_id == bid(Block.CHECKIN_CONFIDENCE, kr.key):
            _initial(el, entry.confidence)
        elif block_id == bid(Block.CHECKIN_NOTE, kr.key):
            _text(el, entry.note)
        elif block_id == bid(Block.CHECKIN_BLOCKERS, kr.key):
            _text(el, entry.blockers)
        blocks.append(b)
    view.update(callback_id=str(Callback.CORRECT_CHECKIN), title=plain("Edit check-in", 24),
                submit=plain("Save correction", 24), private_metadata=meta.encode(),
                blocks=blocks)
    return view
