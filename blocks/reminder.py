"""Reminders as messages: a planning-timeline reminder (the text comes rendered from
``app.calendar.timeline.render_text``) and the follow-up nudge of a check-in prompt.

A reminder's template is the admin's own mrkdwn; the values it is rendered with (the cycle's
name, its dates) are escaped first (:func:`template_variables`), so they cannot mention or
link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blocks.checkin import open_value
from blocks.common import clip, context, escape, section
from blocks.ids import Action
from blocks.prompt import PromptView, prompt_message
from blocks.words import count

MAX_BUTTON_VALUE = 2000  # Slack's limit on a button's value


def template_variables(variables: Mapping[str, object]) -> dict[str, object]:
    """A reminder template's variables, text values escaped for mrkdwn."""
    return {k: escape(v) if isinstance(v, str) else v for k, v in variables.items()}


def fallback_text(cycle: str, when: str) -> str:
    """What a reminder says when its own text cannot be rendered."""
    return f"A planning-timeline reminder for *{escape(cycle)}* ({escape(when)})."


def reminder_message(text: str, *, when: str, cycle: str,
                     mention: str | None = None) -> dict[str, Any]:
    """``{"text", "blocks"}``; ``text`` is rendered mrkdwn (see :func:`template_variables`),
    ``mention`` a user group id (S...) to mention first."""
    body = clip(text, 2800)
    if mention:
        body = f"<!subteam^{mention}> {body}"
    return {"text": body, "blocks": [
        section(f":calendar: {body}"),
        context(f"Planning timeline for {escape(clip(cycle, 64))} · {escape(when)}"),
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
