"""Small pure helpers shared by the builders: text objects, number and score formatting
(the rules for values with units are in :mod:`blocks.units`, plurals in :mod:`blocks.words`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from app.domain import KRState, KRType, KRView, Light, TrafficLight
from blocks.units import format_value, number

TREND_ARROWS = {"up": ":arrow_upper_right:", "down": ":arrow_lower_right:",
                "flat": ":arrow_right:"}
STATE_EMOJI = {KRState.PAUSED: ":double_vertical_bar:", KRState.DONE: ":white_check_mark:"}


# Slack refuses messages whose blocks hold much more than ~12,000 characters
# (msg_blocks_too_long); builders stay under this budget.
MESSAGE_BUDGET = 11_000


def size(block: dict[str, Any]) -> int:
    return len(json.dumps(block, ensure_ascii=False))


def fits(blocks: list[dict[str, Any]], more: list[dict[str, Any]],
         budget: int = MESSAGE_BUDGET, max_blocks: int = 48) -> bool:
    """Would ``blocks + more`` stay within a message's size and block budgets?"""
    return (len(blocks) + len(more) <= max_blocks
            and sum(size(b) for b in blocks) + sum(size(b) for b in more) <= budget)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def plain(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = 3000) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, 150)}


def context(*parts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(p) for p in parts[:10] if p]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", *,
           style: str | None = None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "button", "text": plain(text, 75), "action_id": action_id}
    if value:
        el["value"] = clip(value, 2000)
    if style:
        el["style"] = style
    return el


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": clip(value, 150)}


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats as control characters.

    The one rule for user text (titles, notes, names, units, reasons, ...) in mrkdwn and in a
    message's fallback ``text``: escaped, it can neither mention (``<!channel>``, ``<@U..>``)
    nor disguise a link (``<http://..|label>``). Plain-text objects are shown as typed and are
    never escaped. Text Slack already escaped (what was typed in a command) goes through
    :func:`escape_once` instead."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")


def escape_once(text: str) -> str:
    """:func:`escape` for text that may already hold Slack's own escapes (what a user typed in
    a command arrives with ``&lt;`` for ``<``): those stay as they are, nothing is escaped
    twice, and no bare ``<``, ``>`` or ``&`` is left."""
    return _BARE_AMP.sub("&amp;", text or "").replace("<", "&lt;").replace(">", "&gt;")


def num(value: float | None) -> str:
    return number(value)


def pct(score: float | None) -> str:
    """A score as Slack shows it everywhere: ``64%``."""
    return "–" if score is None else f"{round(score * 100):d}%"


def with_unit(value: float | None, unit: str | None) -> str:
    """``$1.2M``, ``45%``, ``300 ms``, ``1 deal``: see :func:`blocks.units.format_value`."""
    return format_value(value, unit)


def status_emoji(status: TrafficLight | None, state: KRState = KRState.ACTIVE) -> str:
    if state in STATE_EMOJI:
        return STATE_EMOJI[state]
    return status.emoji if status else ":white_circle:"


def kr_progress_text(kr: KRView) -> str:
    """How far a KR is, in its own terms: ``14 -> 9 -> 5 days``, ``done``, ``60%`` (mrkdwn:
    the unit is escaped)."""
    t = kr.kr_type

    def value(v: float | None) -> str:
        return escape(with_unit(v, kr.unit))

    if t in (KRType.INCREASE, KRType.DECREASE):
        return f"{value(kr.start)} → *{value(kr.current)}* → {value(kr.target)}"
    if t == KRType.ABOVE:
        return f"*{value(kr.current)}* (stay ≥ {value(kr.target)})"
    if t == KRType.BELOW:
        return f"*{value(kr.current)}* (stay ≤ {value(kr.target)})"
    if t == KRType.PERCENT:
        return f"*{num(kr.current)}%*" if kr.current is not None else "not started"
    if t == KRType.MILESTONE:
        return "*done*" if kr.current == 1 else "not done yet"
    if t == KRType.ISSUES:
        return "linked issues"
    if t == KRType.CHILDREN:
        return "aligned objectives"
    return "scored by owner"


def light_note(kr: KRView) -> str:
    """What a KR's light says beyond its colour: ``no update since Mon 2 Mar 2026``, ``no
    check-in yet``, or its grade after the end (``strong``); empty for a plain light."""
    light = kr.light
    if light == Light.OUTDATED and kr.last_checkin_at is not None:
        return f"no update since {local_date(kr.last_checkin_at.date())}"
    if light in (Light.OUTDATED, Light.PENDING):
        return "no check-in yet"
    return light.value if light.is_grade else ""


def light_emoji(kr: KRView) -> str:
    return STATE_EMOJI.get(kr.state) or kr.light.emoji


def kr_line(kr: KRView, *, owner: bool = True, key: bool = True) -> str:
    """One mrkdwn line: light, title, progress, score and trend; ``key`` adds the KR's id
    (for surfaces where people type it, such as ``/okr show``)."""
    who = f" · <@{kr.owner_slack_id}>" if owner and kr.owner_slack_id else ""
    note = light_note(kr) if kr.state == KRState.ACTIVE else ""
    flags = f" · _{note}_" if note else ""
    ident = f" `{kr.key}`" if key else ""
    return (f"{light_emoji(kr)} *{escape(clip(kr.title, 200))}*"
            f"{ident}\n{kr_progress_text(kr)} · {pct(kr.score)} "
            f"{TREND_ARROWS.get(kr.trend, '')}{who}{flags}")


def local_date(value: date) -> str:
    return value.strftime("%a %d %b %Y").replace(" 0", " ")


def local_datetime(value: datetime) -> str:
    return value.strftime("%a %d %b, %H:%M").replace(" 0", " ")


def usergroup_picker(current: str | None) -> dict[str, Any]:
    """A user group picker whose options Slack loads as the person types (the app answers
    with ``usergroups.list``), so the modal opens without asking Slack first. ``current`` is
    the group picked before (its id: the label says so without another call)."""
    el: dict[str, Any] = {"type": "external_select", "min_query_length": 0,
                          "placeholder": plain("Type to find a user group", 150)}
    if current:
        el["initial_option"] = option(f"The current group ({current})", current)
    return el


def usergroup_options(groups: Sequence[tuple[str, str]] | None,
                      typed: str | None) -> dict[str, Any]:
    """The picker's options: the matching groups; when Slack would not list them, the id
    the person typed (or how to type one)."""
    if groups is not None:
        return {"options": [option(label, gid) for gid, label in groups[:100]]}
    if typed:
        return {"options": [option(f"The group with id {typed}", typed)]}
    return {"options": [option("Slack did not list groups: type a group id (S…)", "-")]}

