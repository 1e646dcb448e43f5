"""The ``/okr`` slash command: parse, authorize, route to a subcommand, reply."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from blocks.help import HelpEntry, help_message
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.router import (
    CommandRequest,
    Reply,
    Result,
    Subcommand,
    Subcommands,
    resolve,
    split_text,
    visible_subcommands,
)

log = logging.getLogger(__name__)

COMMAND = "/okr"
SHARE_WORDS = ("share", "--share")
subcommand = Subcommands()


def register(app: App, env: Env) -> None:
    app.command(COMMAND)(handle_okr)
    subcommand.install()


def _as_reply(result: Result) -> Reply | None:
    if result is None:
        return None
    if isinstance(result, str):
        return Reply(result)
    return result


def _reply_kwargs(reply: Reply) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"text": reply.text}
    if reply.blocks:
        kwargs["blocks"] = reply.blocks
    # Always JSON with an explicit response type (a bare-text ack is ambiguous to read).
    kwargs["response_type"] = "in_channel" if reply.in_channel else "ephemeral"
    return kwargs


def run(sub: Subcommand, req: CommandRequest) -> Reply | None:
    """Run a subcommand; any failure becomes a reply, never an exception."""
    try:
        return _as_reply(sub.func(req))
    except Exception as exc:
        log_failure("okr.subcommand_failed", exc, subcommand=sub.name, user=req.person.slack_id)
        return Reply(user_message(exc), error=True)


def _run_later(sub: Subcommand, req: CommandRequest, respond: Respond,
               share: bool = False) -> None:
    reply = run(sub, req)
    if reply is not None:
        if share and not reply.error:
            reply = Reply(reply.text, reply.blocks, in_channel=True)
        respond(**_reply_kwargs(reply))


def help_reply(person: Actor, unknown: str | None = None) -> Reply:
    entries = [HelpEntry(c.name, c.usage, c.help, c.admin)
               for c in visible_subcommands(is_admin=person.is_admin)]
    text, blocks = help_message(entries, command=COMMAND, unknown=unknown)
    return Reply(text, blocks)


def handle_okr(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond,
               env: Env, workspace_id: int, person: Actor | None, now: datetime) -> None:
    if person is None:
        ack(text=":warning: I could not tell who you are. Please try again.",
            response_type="ephemeral")
        return
    name, args, rest = split_text(str(body.get("text") or ""))
    sub, args, rest = resolve(name, args, rest)
    # A trailing "share" posts the answer for the whole channel instead of only to the caller.
    share = bool(args) and args[-1].lower() in SHARE_WORDS
    if share:
        args = args[:-1]
        rest = rest.rsplit(None, 1)[0] if len(rest.split()) > 1 else ""
    if sub is None:
        ack(**_reply_kwargs(help_reply(person, unknown=name or None)))
        return
    if sub.admin and not person.is_admin:
        ack(text=f":lock: `{COMMAND} {sub.name}` is for OKR admins. "
                 "Ask one of them if you need it done.", response_type="ephemeral")
        return
    req = CommandRequest(
        env=env, workspace_id=workspace_id, person=person, name=sub.name, args=args, text=rest,
        client=client, now=now, trigger_id=str(body.get("trigger_id") or ""),
        channel_id=str(body.get("channel_id") or ""), team_id=str(body.get("team_id") or ""),
        response_url=body.get("response_url"), respond=respond,
    )
    if sub.slow:
        ack()
        env.later(_run_later, sub, req, respond, share)
        return
    result = run(sub, req)
    if share and result is not None and not result.error:
        result = Reply(result.text, result.blocks, in_channel=True)
    if result is None:
        ack()
    else:
        ack(**_reply_kwargs(result))


@subcommand("help", help="Show this list", order=0)
def okr_help(req: CommandRequest) -> Reply:
    return help_reply(req.person)
