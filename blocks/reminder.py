"""A planning-timeline reminder as a message (the text comes rendered from
``scheduler.timeline.render_text``)."""

from __future__ import annotations

from typing import Any

from blocks.common import clip, context, section


def reminder_message(text: str, *, when: str, cycle: str,
                     mention: str | None = None) -> dict[str, Any]:
    """``{"text", "blocks"}``; ``mention`` is a user group id (S...) to mention first."""
    body = clip(text, 2800)
    if mention:
        body = f"<!subteam^{mention}> {body}"
    return {"text": body, "blocks": [
        section(f":calendar: {body}"),
        context(f"Planning timeline for {clip(cycle, 64)} · {when}"),
    ]}
