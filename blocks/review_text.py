"""Jinja environments for report and retrospective templates (``blocks/templates``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def tenth(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def signed(value: float | None, *, percent: bool = False) -> str:
    """``+0.12`` / ``−0.05`` (or points for percentages); empty for no value."""
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


@lru_cache(maxsize=2)
def environment(*, html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("blocks", "templates"),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(score=score, tenth=tenth, pct=pct, signed=signed, day=day,
                       md=md_cell)
    return env
