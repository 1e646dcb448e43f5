"""Jinja environments and filters for report and retrospective text (``blocks/templates``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from blocks.common import escape
from blocks.words import count


def score(value: float | None) -> str:
    """Scores read as percentages everywhere people read them (Slack, reports, the terminal):
    0.64 is ``64%``. Exports keep 0.0-1.0."""
    return "—" if value is None else f"{value * 100:.0f}%"


def tenth(value: float | None) -> str:
    """A score given to the nearest tenth (self and final scores): 0.7 is ``70%``."""
    return "—" if value is None else f"{value * 100:.0f}%"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def signed(value: float | None, *, percent: bool = True) -> str:
    """``+12 pts`` / ``−5 pts`` (scores read as percentages; ``percent=False`` gives ``+0.12``);
    empty for no value."""
    if value is None:
        return ""
    shown = f"{abs(value) * 100:.0f} pts" if percent else f"{abs(value):.2f}"
    if (abs(value) * 100 < 0.5) if percent else abs(value) < 0.005:
        return "±0" + (" pts" if percent else "")
    return ("+" if value > 0 else "−") + shown


def day(value: date | datetime) -> str:
    return f"{value.day} {value.strftime('%b %Y')}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_cell(value: object) -> str:
    """Plain text safe inside Markdown (tables included): markup characters are escaped and
    line breaks become spaces, so a title cannot format, link or break the table."""
    text = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def num(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _mrkdwn_value(value: object) -> object:
    """Every ``{{ value }}`` of a mrkdwn template: text escaped (the autoescape of mrkdwn)."""
    return escape(value) if isinstance(value, str) else value


@lru_cache(maxsize=3)
def environment(*, html: bool, mrkdwn: bool = False) -> Environment:
    """``html`` templates autoescape HTML; ``mrkdwn`` ones escape every value for Slack, so a
    value cannot mention or link whether or not the template remembers a filter."""
    env = Environment(
        loader=PackageLoader("blocks", "templates"),
        autoescape=html,
        finalize=_mrkdwn_value if mrkdwn else None,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(score=score, tenth=tenth, pct=pct, signed=signed, day=day,
                       md=md_cell, num=num, count=count)
    return env


def retro_text(retro: object, *, markup: Literal["plain", "mrkdwn"]) -> str:
    """The retrospective as plain text (CLI) or Slack mrkdwn (channel digest).

    ``retro`` is an ``app.services.retro.Retro`` (templates read its attributes).
    """
    name = "retro.mrkdwn.j2" if markup == "mrkdwn" else "retro.txt.j2"
    env = environment(html=False, mrkdwn=markup == "mrkdwn")
    return env.get_template(name).render(r=retro).strip() + "\n"


def pending_text(rows: Sequence[tuple[str, int, int]]) -> str:
    """``(name, self scores owed, final scores owed)`` per person, as plain lines."""
    lines = ["Still to score:"]
    for name, own, final in rows:
        parts = []
        if own:
            parts.append(count(own, "self score"))
        if final:
            parts.append(count(final, "final score"))
        lines.append(f"  - {name}: {', '.join(parts)}")
    return "\n".join(lines)


def next_cycle_text(*, source: str, cycle: str, start: date, end: date, created: bool,
                    copied: Sequence[tuple[str, str]], already: int) -> str:
    head = (f"Created {cycle} ({day(start)} – {day(end)})" if created
            else f"{cycle} ({day(start)} – {day(end)}) already exists")
    lines = [f"{head}; carrying over from {source}."]
    if copied:
        lines.append(f"Copied {count(len(copied), 'objective')} as "
                     "drafts for their owners to confirm:")
        lines.extend(f"  - {old} -> {new}" for old, new in copied)
    else:
        lines.append("No objective to carry over" + (" (already copied earlier)." if already
                                                     else "."))
    if copied and already:
        lines.append(f"({already} carried by an earlier run were left as they are.)")
    return "\n".join(lines)
