"""The lead's "waiting on" DM: the people and KRs of their teams not updated for a while
since a check-in prompt, grouped by team. And the participation line of digests and Home."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.domain import Participation, WaitingKR
from blocks.common import clip, context, escape, local_date, section
from blocks.words import count

MAX_LINES = 30  # KRs listed; the rest are counted
MAX_NAMES = 20  # people named in a participation line
SECTION_CHARS = 2_800


def waiting_message(items: Sequence[WaitingKR], *, after_days: int) -> dict[str, Any]:
    """``{"text", "blocks"}`` for chat.postMessage; ``items`` in the order to list them."""
    people = len({i.owner_slack_id for i in items})
    text = (f"Waiting on {count(people, 'person', 'people')}: "
            f"{count(len(items), 'key result')} not updated for "
            f"{count(after_days, 'working day')} since the check-in prompt.")
    blocks: list[dict[str, Any]] = [section(f":hourglass_flowing_sand: *{text}*")]
    teams: dict[str, list[str]] = {}
    for item in list(items)[:MAX_LINES]:
        line = (f"• <@{item.owner_slack_id}> · {escape(clip(item.title, 150))} · "
                f"asked {local_date(item.since)}")
        teams.setdefault(item.team, []).append(line)
    for team, lines in teams.items():
        body = f"*{escape(clip(team, 80))}*" if team else "*Other key results*"
        for line in lines:
            if len(body) + len(line) + 1 > SECTION_CHARS:
                blocks.append(section(body))
                body = line
            else:
                body = f"{body}\n{line}"
        blocks.append(section(body))
    if len(items) > MAX_LINES:
        blocks.append(context(f"and {count(len(items) - MAX_LINES, 'more key result')}"))
    blocks.append(context("You lead these teams. This comes at most once a week; people "
                          "who are away are left out, and a check-in takes a KR off the list."))
    return {"text": text, "blocks": blocks}


def participation_line(p: Participation) -> str:
    """"7 of 9 checked in since Fri 27 Feb 2026 · waiting on <@U1>, <@U2>"."""
    since = f" since {local_date(p.since)}" if p.since else ""
    line = f":busts_in_silhouette: {p.checked_in} of {p.owners} checked in{since}"
    if p.named and p.waiting:
        names = ", ".join(f"<@{s}>" for s in p.waiting[:MAX_NAMES])
        more = f" and {len(p.waiting) - MAX_NAMES} more" if len(p.waiting) > MAX_NAMES else ""
        line += f" · waiting on {names}{more}"
    return line
