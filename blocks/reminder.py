"""Reminders as messages: a planning-timeline reminder (the text comes rendered from
``scheduler.timeline.render_text``) and the follow-up nudge of a check-in prompt."""

from __future__ import annotations

from typing import Any

from blocks.checkin import open_value
from blocks.common import clip, context, section
from blocks.ids import Action
from blocks.prompt import PromptView, prompt_message
from blocks.words import count

MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value


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


def nudge_message(view: PromptView, *, updated: int = 0) -> dict[str, Any]:
    """The nudge: the prompt's message for the KRs in ``view`` (those still not updated since
    the prompt), saying how many were updated already; its Check in button opens the modal on
    just those KRs. ``updated`` is how many of the person's active KRs were checked in on."""
    message = prompt_message(PromptView(
        delivery_id=view.delivery_id, first_name=view.first_name, cycle_name=view.cycle_name,
        day=view.day, total_days=view.total_days, krs=view.krs, nudge=True))
    blocks: list[dict[str, Any]] = message["blocks"]
    if updated:
        done = count(updated, "key result")
        blocks.insert(2, context(f":white_check_mark: Thanks: {done} already updated since "
                                 "the prompt."))
    value = open_value(view.delivery_id, [kr.key for kr in view.krs])
    if len(value) > MAX_BUTTON_VALUE:  # very long ids: the modal shows all open KRs instead
        value = open_value(view.delivery_id)
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == Action.OPEN_CHECKIN.value:
                element["value"] = value
    return message
