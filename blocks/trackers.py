"""The tracker connections modal (admins): what the workspace has, and a form to add one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blocks.common import context, escape, plain, section
from blocks.ids import Block, Callback

# One connection as the modal shows it: (id or "env", provider, host, token hint, webhook).
Row = tuple[str, str, str, str, str]


def _text_input(block: Block, label: str, hint: str, *, optional: bool = True,
                max_length: int = 500) -> dict[str, Any]:
    return {"type": "input", "block_id": str(block), "optional": optional,
            "label": plain(label), "hint": plain(hint),
            "element": {"type": "plain_text_input", "action_id": str(block),
                        "max_length": max_length}}


def rows_text(rows: Sequence[Row]) -> str:
    if not rows:
        return "No tracker connections yet: links are read without credentials."
    return "\n".join(f"`{escape(ident)}` {escape(provider)} *{escape(host)}*, token "
                     f"{escape(hint)}, webhook `{escape(hook)}`"
                     for ident, provider, host, hint, hook in rows[:40])


def tracker_modal(rows: Sequence[Row]) -> dict[str, Any]:
    provider = {"type": "input", "block_id": str(Block.TRACKER_PROVIDER),
                "label": plain("Tracker"),
                "element": {"type": "static_select", "action_id": str(Block.TRACKER_PROVIDER),
                            "initial_option": {"text": plain("GitLab"), "value": "gitlab"},
                            "options": [{"text": plain("GitLab"), "value": "gitlab"},
                                        {"text": plain("GitHub"), "value": "github"},
                                        {"text": plain("Jira"), "value": "jira"},
                                        {"text": plain("Linear"), "value": "linear"}]}}
    canceled = {"type": "input", "block_id": str(Block.TRACKER_CANCELED), "optional": True,
                "label": plain("Linear: canceled issues"),
                "element": {"type": "checkboxes", "action_id": str(Block.TRACKER_CANCELED),
                            "options": [{"text": plain("A canceled issue counts as done"),
                                         "value": "done"}]}}
    return {
        "type": "modal", "callback_id": str(Callback.TRACKER_ADD),
        "title": plain("Issue trackers", 24), "submit": plain("Add connection", 24),
        "close": plain("Close", 24),
        "blocks": [
            section(rows_text(rows)),
            context("Remove one with `/okr tracker remove <id or host>`. Tokens and webhook "
                    "secrets are stored encrypted and never shown again."),
            {"type": "divider"},
            provider,
            _text_input(Block.TRACKER_HOST, "Host", "GitLab: the host your links name, e.g. "
                        "gitlab.example.com (empty: gitlab.com). GitHub: github.com. Jira: "
                        "the site, e.g. acme.atlassian.net. Linear: linear.app.",
                        max_length=200),
            _text_input(Block.TRACKER_TOKEN, "Read-only API token",
                        "Empty for public projects only. Linear: a personal API key."),
            _text_input(Block.TRACKER_API_URL, "API URL",
                        "Only when not the default (GitLab: https://<host>/api/v4; Jira: "
                        "https://<host>)."),
            _text_input(Block.TRACKER_ACCOUNT, "Account email (Jira Cloud)",
                        "The email of the Atlassian account the API token belongs to.",
                        max_length=200),
            canceled,
        ],
    }


def tracker_added_modal(provider: str, host: str, webhook_path: str,
                        secret: str) -> dict[str, Any]:
    return {
        "type": "modal", "title": plain("Connection added", 24), "close": plain("Done", 24),
        "blocks": [
            section(f"*{escape(provider)}* connection for *{escape(host)}* added."),
            section(f"Webhook URL: `https://<this service>{escape(webhook_path)}`\n"
                    f"Webhook secret: `{escape(secret)}`"),
            context("Copy the secret into the tracker's webhook settings now: it is not shown "
                    "again."),
        ],
    }
