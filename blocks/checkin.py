"""The check-in modal: one page of a person's open KRs, and reading its submission back.

Opening it from anywhere (a DM prompt, the Home tab, a digest) is a button with
``action_id=Action.OPEN_CHECKIN`` and ``value=open_value(...)``: a compact JSON object

    {"d": 42}                # the delivery (scheduler row) the prompt came from, optional
    {"d": 42, "k": ["kr1"]}  # only these KRs (still only those the user may check in on)
    ""                       # all of my open KRs

Unknown or malformed values open the modal for all open KRs. When the button sits in a
message, the handler keeps that message's channel and ts in ``private_metadata`` and, after a
successful submit, replaces the message with :func:`checked_in_message`.

Per KR the modal has: a header section, the value input its type needs (number for
increase/decrease/above/below, percent, a done checkbox for milestones, a 0.0-1.0 score for
manual KRs; none for issues/children KRs, which move by themselves), a traffic light and one
note ("What moved? Anything blocking?"), then "no change" once there is a check-in to repeat,
and a divider: 1 + 5 blocks. ``fields`` (the ``OKR_CHECKIN_FIELDS`` setting) adds confidence
and a separate blockers input. The traffic light keeps the owner's word: it is preselected
with the status they last declared, the pace suggestion shown in its hint; only a KR never
declared gets the suggestion preselected. Block and action ids are
``f"{Block.CHECKIN_*}:{kr_key}"``. More than ``PER_PAGE`` KRs paginate: submitting a page
stores it and the next page replaces the view (``response_action: update``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.domain import CheckinEntry, Confidence, KRType, KRView, TrafficLight
from blocks.checkin_state import parse_state
from blocks.common import (
    clip,
    context,
    divider,
    escape,
    kr_progress_text,
    local_date,
    mrkdwn,
    num,
    option,
    pct,
    plain,
    section,
    with_unit,
)
from blocks.corrections import MAX_FIXABLE, fix_buttons
from blocks.ids import Block, Callback
from blocks.words import count

__all__ = ["DEFAULT_FIELDS", "PER_PAGE", "CheckedIn", "CheckinMeta", "OpenRequest", "bid",
           "checked_in_message", "empty_modal", "kr_blocks", "modal", "open_value", "pages",
           "parse_open_value", "parse_state"]

PER_PAGE = 10
# What each KR asks by default; "confidence" and "blockers" may be added (OKR_CHECKIN_FIELDS).
DEFAULT_FIELDS: tuple[str, ...] = ("value", "status", "note")
VALUE_TYPES = (KRType.INCREASE, KRType.DECREASE, KRType.ABOVE, KRType.BELOW)
TEXT_MAX = 3000
STATUS_LABELS = {TrafficLight.GREEN: "On track", TrafficLight.YELLOW: "At risk",
                 TrafficLight.RED: "Off track"}


# --- the button value and private_metadata ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """What an ``Action.OPEN_CHECKIN`` button asks for."""

    delivery_id: int | None = None
    kr_keys: tuple[str, ...] = ()


def open_value(delivery_id: int | None = None, kr_keys: Sequence[str] = ()) -> str:
    data: dict[str, Any] = {}
    if delivery_id is not None:
        data["d"] = int(delivery_id)
    if kr_keys:
        data["k"] = list(kr_keys)[:20]
    return json.dumps(data, separators=(",", ":")) if data else ""


def parse_open_value(value: str | None) -> OpenRequest:
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return OpenRequest()
    if not isinstance(data, dict):
        return OpenRequest()
    d = data.get("d")
    keys = data.get("k")
    return OpenRequest(
        delivery_id=d if isinstance(d, int) and not isinstance(d, bool) else None,
        kr_keys=tuple(str(k)[:100] for k in keys[:20]) if isinstance(keys, list) else (),
    )


@dataclass(frozen=True, slots=True)
class CheckinMeta:
    """Kept in private_metadata between opening and submitting (never trusted for authz)."""

    channel: str | None = None
    ts: str | None = None
    delivery_id: int | None = None
    page: int = 0
    kr_keys: tuple[str, ...] = ()
    done: int = 0  # KRs checked in on earlier pages
    pages: int = 1  # pages when the modal opened (a hint: the next page is recomputed)

    def encode(self) -> str:
        data = {"c": self.channel, "t": self.ts, "d": self.delivery_id, "p": self.page,
                "k": list(self.kr_keys), "n": self.done,
                "tp": self.pages if self.pages != 1 else None}
        return json.dumps({k: v for k, v in data.items() if v not in (None, [], 0)},
                          separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | None) -> CheckinMeta:
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}

        def s(v: Any) -> str | None:
            return str(v)[:64] if isinstance(v, str) and v else None

        def i(v: Any) -> int:
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0

        keys = data.get("k")
        return cls(channel=s(data.get("c")), ts=s(data.get("t")),
                   delivery_id=data.get("d") if isinstance(data.get("d"), int) else None,
                   page=i(data.get("p")), done=i(data.get("n")),
                   pages=max(i(data.get("tp")), 1),
                   kr_keys=tuple(str(k)[:100] for k in keys[:20])
                   if isinstance(keys, list) else ())


def bid(prefix: Block, kr_key: str) -> str:
    return f"{prefix}:{kr_key}"


# --- the modal -----------------------------------------------------------------------------


def _value_input(kr: KRView) -> dict[str, Any] | None:
    key = kr.key
    t = kr.kr_type
    if t in VALUE_TYPES or t == KRType.PERCENT:
        el: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": True,
                              "action_id": bid(Block.CHECKIN_VALUE, key)}
        if kr.current is not None:
            el["initial_value"] = num(kr.current).replace(",", "")
        if t == KRType.PERCENT:
            el.update(min_value="0", max_value="100")
            label = "Current value (%)"
        else:
            label = f"Current value ({clip(kr.unit, 30)})" if kr.unit else "Current value"
        hint = (f"Start {with_unit(kr.start, kr.unit)} → target {with_unit(kr.target, kr.unit)}"
                if t in VALUE_TYPES[:2] else f"Threshold {with_unit(kr.target, kr.unit)}"
                if t in VALUE_TYPES[2:] else "0 to 100")
        return {"type": "input", "block_id": bid(Block.CHECKIN_VALUE, key), "optional": True,
                "label": plain(label, 2000), "hint": plain(hint, 2000), "element": el}
    if t == KRType.MILESTONE:
        done = option("Done", "done")
        el = {"type": "checkboxes", "action_id": bid(Block.CHECKIN_VALUE, key),
              "options": [done]}
        if kr.current == 1:
            el["initial_options"] = [done]
        return {"type": "input", "block_id": bid(Block.CHECKIN_VALUE, key), "optional": True,
                "label": plain("Milestone"), "element": el}
    if t == KRType.MANUAL:
        el = {"type": "number_input", "is_decimal_allowed": True,
              "action_id": bid(Block.CHECKIN_VALUE, key), "min_value": "0", "max_value": "1"}
        el["initial_value"] = f"{kr.score:.2f}"
        return {"type": "input", "block_id": bid(Block.CHECKIN_VALUE, key), "optional": True,
                "label": plain("Score (0.0 to 1.0)"),
                "hint": plain("0.7 is a good stretch result; 1.0 means fully achieved."),
                "element": el}
    return None


def _status_input(kr: KRView) -> dict[str, Any]:
    opts = [option(f"{STATUS_LABELS[s]}", s.value) for s in TrafficLight]
    for o, s in zip(opts, TrafficLight, strict=True):
        o["text"] = plain(f"{s.emoji} {STATUS_LABELS[s]}", 75)
    chosen = kr.declared_status or kr.suggested_status
    pace = STATUS_LABELS[kr.suggested_status].lower()
    hint = (f"Pace suggests: {pace}." if kr.declared_status is not None
            else f"Pace suggests: {pace} (preselected: you have not set a status yet).")
    return {"type": "input", "block_id": bid(Block.CHECKIN_STATUS, kr.key),
            "label": plain("Status"), "hint": plain(hint, 2000),
            "element": {"type": "radio_buttons", "action_id": bid(Block.CHECKIN_STATUS, kr.key),
                        "options": opts,
                        "initial_option": opts[list(TrafficLight).index(chosen)]}}


def _confidence_input(kr: KRView) -> dict[str, Any]:
    return {"type": "input", "block_id": bid(Block.CHECKIN_CONFIDENCE, kr.key),
            "optional": True, "label": plain("Confidence"),
            "element": {"type": "static_select",
                        "action_id": bid(Block.CHECKIN_CONFIDENCE, kr.key),
                        "placeholder": plain("How sure are you?", 150),
                        "options": [option(c.value.capitalize(), c.value) for c in Confidence]}}


def _text_input(prefix: Block, kr: KRView, label: str, initial: str | None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "plain_text_input", "action_id": bid(prefix, kr.key),
                          "multiline": True, "max_length": TEXT_MAX}
    if initial:
        el["initial_value"] = clip(initial, TEXT_MAX)
    return {"type": "input", "block_id": bid(prefix, kr.key), "optional": True,
            "label": plain(label), "element": el}


def _no_change_input(kr: KRView) -> dict[str, Any]:
    same = option("No change since last time", "same")
    return {"type": "input", "block_id": bid(Block.CHECKIN_NO_CHANGE, kr.key), "optional": True,
            "label": plain("No change"),
            "element": {"type": "checkboxes", "action_id": bid(Block.CHECKIN_NO_CHANGE, kr.key),
                        "options": [same]}}


def kr_blocks(kr: KRView, fields: Sequence[str] = DEFAULT_FIELDS) -> list[dict[str, Any]]:
    """One KR's blocks: its header, the inputs ``fields`` names, "no change", a divider."""
    last = (f" · last check-in {local_date(kr.last_checkin_at.date())}"
            if kr.last_checkin_at else " · no check-in yet")
    head = section(f"*{escape(clip(kr.title, 300))}*\n"
                   f"{kr_progress_text(kr)} · score {pct(kr.score)}{last}",
                   block_id=bid(Block.CHECKIN_KR, kr.key))
    out = [head]
    value = _value_input(kr)
    if value is not None:
        out.append(value)
    else:
        out.append(context("This key result moves by itself; add a status and a note."))
    out.append(_status_input(kr))
    if "confidence" in fields:
        out.append(_confidence_input(kr))
    if "note" in fields:
        label = "What moved?" if "blockers" in fields else "What moved? Anything blocking?"
        out.append(_text_input(Block.CHECKIN_NOTE, kr, label, None))
    if "blockers" in fields:
        out.append(_text_input(Block.CHECKIN_BLOCKERS, kr, "Blockers or help needed",
                               kr.last_blockers))
    if value is not None and kr.last_checkin_at is not None:
        out.append(_no_change_input(kr))
    out.append(divider())
    return out


def pages(krs: Sequence[KRView]) -> list[list[KRView]]:
    return [list(krs[i:i + PER_PAGE]) for i in range(0, len(krs), PER_PAGE)] or [[]]


def _intro(krs: Sequence[KRView], cycle_name: str | None) -> str:
    """What the modal asks, and truthfully what it has filled in."""
    where = f" in *{escape(cycle_name)}*" if cycle_name else ""
    declared = sum(kr.declared_status is not None for kr in krs)
    if declared == len(krs):
        status = "each status is the one you last set"
    elif declared == 0:
        status = "each status is the pace suggestion, as you have not set one yet"
    else:
        status = ("each status is the one you last set, or the pace suggestion where you "
                  "have not set one yet")
    return (f"How are your key results going{where}? Values show where each key result "
            f"stands now; {status}.")


def modal(krs: Sequence[KRView], *, meta: CheckinMeta, total_pages: int = 1,
          cycle_name: str | None = None,
          fields: Sequence[str] = DEFAULT_FIELDS) -> dict[str, Any]:
    """The modal for one page of KRs (``meta.page``, 0-based, of ``total_pages``)."""
    last_page = meta.page + 1 >= total_pages
    title = "Check in" if total_pages == 1 else f"Check in ({meta.page + 1}/{total_pages})"
    blocks: list[dict[str, Any]] = [section(_intro(krs, cycle_name))]
    for kr in krs:
        blocks += kr_blocks(kr, fields)
    if blocks and blocks[-1]["type"] == "divider":
        blocks.pop()
    view: dict[str, Any] = {
        "type": "modal", "callback_id": str(Callback.CHECKIN), "title": plain(title, 24),
        "submit": plain("Save" if last_page else "Save & next", 24),
        "close": plain("Cancel", 24), "private_metadata": meta.encode(),
        "clear_on_close": True, "notify_on_close": False, "blocks": blocks,
    }
    return view


def empty_modal(message: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": str(Callback.CHECKIN), "title": plain("Check in"),
            "close": plain("Close"), "blocks": [section(message)]}


# --- after submitting -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """One KR as just checked in, for the summary that replaces a DM prompt.

    With a ``checkin_id`` the line carries Edit and Undo (Undo while ``can_undo``); an
    ``undone`` check-in is shown struck through, without buttons.
    """

    title: str
    status: TrafficLight | None
    score: float | None
    checkin_id: int | None = None
    undone: bool = False
    can_undo: bool = True

    @classmethod
    def of(cls, e: CheckinEntry) -> CheckedIn:
        lights = {t.value: t for t in TrafficLight}
        return cls(e.kr_title, lights.get(e.status or ""), e.score, e.id, e.undone, e.can_undo)


def _line(kr: CheckedIn) -> str:
    if getattr(kr, "undone", False):
        return f":leftwards_arrow_with_hook: ~{escape(clip(kr.title, 150))}~ · undone"
    return (f"{kr.status.emoji if kr.status else ':white_circle:'} "
            f"*{escape(clip(kr.title, 150))}* · {pct(kr.score)}")


def checked_in_message(krs: Sequence[CheckedIn], *, when: str,
                       earlier: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """What a DM prompt becomes after its check-in: a short summary, with Edit and Undo on
    each check-in it names (the first ``MAX_FIXABLE``).

    ``earlier`` counts KRs checked in on previous pages of the same modal.
    """
    n = len(krs) + earlier
    text = f":white_check_mark: Checked in on {count(n, 'key result')} {when}."
    blocks: list[dict[str, Any]] = [section(text)]
    # Callers may hand over any line with a title, status and score (no buttons then).
    fixable = [kr for kr in krs if getattr(kr, "checkin_id", None) is not None][:MAX_FIXABLE]
    for kr in fixable:
        cid = int(kr.checkin_id or 0)
        blocks.append(section(_line(kr), block_id=f"{Block.CHECKIN_DONE}:{cid}"))
        if not kr.undone:
            blocks.append(fix_buttons(cid, can_undo=kr.can_undo))
    picked = {id(kr) for kr in fixable}
    lines = [_line(kr) for kr in krs if id(kr) not in picked][:40 - len(fixable)]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
    blocks.append(context("Thanks! Your team's digest will include this."))
    return text, blocks
