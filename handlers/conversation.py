"""Check-ins written in the bot's DM (``message.im``): read, record, answer in the thread.

Only a person's own new messages count: messages from bots (``bot_id``, subtype
``bot_message``), edits (``message_changed``), deletions and every other subtype are
acknowledged and ignored. The ack goes first; the reading, recording and answer run after it
(``env.later``). Each event is handled once (its id is recorded with the check-ins, as in
handlers/events.py), and the check-ins' idempotency keys come from the message (channel and
ts), so a retried event records nothing more and gets no second answer.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.domain import ReplyOutcome
from app.services.checkins import conversation
from app.services.tx import Tx
from blocks.reply import reply_message
from handlers.context import Env
from handlers.errors import log_failure, user_message
from handlers.events import once
from handlers.home import refresh_later

log = logging.getLogger(__name__)


def is_person_dm(event: dict[str, Any]) -> bool:
    """A new message a person wrote in the bot's DM (not a bot, an edit or a deletion)."""
    return (event.get("channel_type") == "im" and not event.get("subtype")
            and not event.get("bot_id") and bool(event.get("user"))
            and bool(str(event.get("text") or "").strip()) and bool(event.get("ts")))


def on_dm(event: dict[str, Any], body: dict[str, Any], client: WebClient, env: Env,
          workspace_id: int) -> None:
    env.later(answer, env, client, workspace_id, event, body)


def ignore(event: dict[str, Any]) -> None:
    """Every other message event: acknowledged (a non-2xx would make Slack retry) and dropped."""
    log.debug("slack.message_ignored", extra={"subtype": event.get("subtype")})


def answer(env: Env, client: WebClient, workspace_id: int, event: dict[str, Any],
           body: dict[str, Any]) -> None:
    """After the ack: record what the message says, then answer in its thread."""
    user, channel, ts = str(event["user"]), str(event["channel"]), str(event["ts"])
    thread = str(event.get("thread_ts") or ts)
    found: list[ReplyOutcome] = []

    def work(tx: Tx) -> None:
        found.append(conversation.answer(
            session=tx, workspace_id=workspace_id, slack_id=user,
            text=str(event.get("text") or ""), now=env.clock(), settings=env.settings,
            key_prefix=f"slack:dm:{channel}:{ts}", cache=env.report_cache))

    try:
        once(env, body, work)
    except Exception as exc:
        log_failure("checkin.reply_failed", exc, user=user)
        _post(client, channel, thread, {"text": user_message(exc)})
        return
    if not found or found[0].repeated:
        return
    outcome = found[0]
    log.info("checkin.reply", extra={"user": user, "recorded": len(outcome.recorded),
                                     "problems": len(outcome.problems)})
    _post(client, channel, thread, reply_message(outcome))
    if outcome.recorded and outcome.person_id is not None:
        refresh_later(env, client, workspace_id, outcome.person_id)


def _post(client: WebClient, channel: str, thread: str, message: dict[str, Any]) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread, **message)
    except SlackApiError as exc:
        log.error("checkin.reply_post_failed",
                  extra={"channel": channel, "slack_error": exc.response.get("error")})


def register(app: App, env: Env) -> None:
    app.event("message", matchers=[is_person_dm])(on_dm)
    app.event("message")(ignore)
