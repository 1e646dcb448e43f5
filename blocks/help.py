"""The ``/okr help`` reply."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from blocks.common import clip, context, escape, section


@dataclass(frozen=True, slots=True)
class HelpEntry:
    name: str
    usage: str
    help: str
    admin: bool = False


def help_message(entries: Sequence[HelpEntry], *, command: str = "/okr",
                 unknown: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(text, blocks) listing every subcommand; ``unknown`` is what the user typed, if wrong."""
    lines = []
    for e in entries:
        usage = f" {e.usage}" if e.usage else ""
        badge = " _(admin)_" if e.admin else ""
        lines.append(f"`{command} {e.name}{clip(escape(usage), 80)}` "
                     f"{clip(escape(e.help), 150)}{badge}")
    intro = (f"I don't know `{escape(unknown[:50]).replace('`', '')}`. " if unknown else "") + \
        f"Here is what `{command}` can do:"
    blocks: list[dict[str, Any]] = [section(intro)]
    # Sections hold 3000 characters: split the list into chunks well under that.
    chunk: list[str] = []
    budget = 9_000
    for line in lines:
        budget -= len(line) + 1
        if budget < 0:
            chunk.append("…")
            break
        if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(context("Replies are only visible to you; add `share` at the end "
                          f"(`{command} show <id> share`) to post one for the channel."))
    text = intro + " " + ", ".join(e.name for e in entries)
    return text, blocks[:50]
