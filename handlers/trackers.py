"""``/okr tracker`` (admins): the workspace's issue tracker connections, in a modal.

``/okr tracker`` opens the modal (the list and a form to add one), ``/okr tracker list``
answers with the list, ``/okr tracker remove <id or host>`` removes one. Who may is decided
here on the server: the subcommand is for admins, and the modal's submission checks again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from app.services.errors import OkrError
from app.services.links import connections
from blocks.common import escape
from blocks.ids import Block, Callback
from blocks.trackers import Row, rows_text, tracker_added_modal, tracker_modal
from handlers.context import Actor, Env
from handlers.router import CommandRequest, Reply, Subcommands

log = logging.getLogger(__name__)
subcommand = Subcommands()
USAGE = "[list | remove <id or host>]"
_FIELDS = {"provider": Block.TRACKER_PROVIDER, "host": Block.TRACKER_HOST,
           "token": Block.TRACKER_TOKEN, "api_url": Block.TRACKER_API_URL,
           "account": Block.TRACKER_ACCOUNT, "canceled_done": Block.TRACKER_CANCELED}


def _rows(env: Env, workspace_id: int) -> list[Row]:
    with env.session() as tx:
        listed = connections.listing(session=tx, settings=env.settings,
                                     workspace_id=workspace_id)
    return [(str(r.id) if r.id is not None else "env", _provider(r),
             f"{r.host} ({r.account})" if r.account else r.host,
             r.token_hint or "none", r.webhook_path or "none") for r in listed]


@subcommand("tracker", help="Issue tracker connections of this workspace", usage=USAGE,
            admin=True, order=90)
def tracker(req: CommandRequest) -> Reply | None:
    verb = req.args[0].lower() if req.args else ""
    if verb == "list":
        return Reply(rows_text(_rows(req.env, req.workspace_id)))
    if verb == "remove" and len(req.args) == 2:
        with req.session() as tx:
            row = connections.remove(session=tx, workspace_id=req.workspace_id,
                                     ref=req.args[1], now=req.now,
                                     actor_label=f"slack:{req.person.slack_id}")
        return Reply(f"Removed the {escape(row.provider)} connection for {escape(row.host)}.")
    if verb:
        return Reply(f"Usage: `/okr tracker {USAGE}`", error=True)
    req.open_modal(tracker_modal(_rows(req.env, req.workspace_id)))
    return None


def _provider(row: connections.Listed) -> str:
    if row.canceled_done is None:
        return row.provider
    return f"{row.provider} (canceled {'counts' if row.canceled_done else 'does not count'} " \
        "as done)"


def _checked(state: dict[str, Any], block: Block) -> bool:
    entry = (state.get(str(block)) or {}).get(str(block)) or {}
    options = entry.get("selected_options")
    return isinstance(options, list) and any(
        isinstance(o, dict) and o.get("value") == "done" for o in options)


def _value(state: dict[str, Any], block: Block) -> str | None:
    entry = (state.get(str(block)) or {}).get(str(block)) or {}
    if "selected_option" in entry:
        return str((entry.get("selected_option") or {}).get("value") or "") or None
    value = entry.get("value")
    return value if isinstance(value, str) else None


def on_add_submit(ack: Ack, view: dict[str, Any], env: Env, workspace_id: int,
                  person: Actor | None, now: Any) -> None:
    if person is None or not person.is_admin:
        ack(response_action="errors",
            errors={str(Block.TRACKER_PROVIDER): "Only OKR admins manage tracker connections."})
        return
    state = (view.get("state") or {}).get("values") or {}
    provider = _value(state, Block.TRACKER_PROVIDER) or ""
    try:
        with env.session() as tx:
            added = connections.add(
                session=tx, settings=env.settings, workspace_id=workspace_id,
                provider=provider,
                host=_value(state, Block.TRACKER_HOST) or connections.default_host(provider),
                token=_value(state, Block.TRACKER_TOKEN),
                account=_value(state, Block.TRACKER_ACCOUNT),
                api_url=_value(state, Block.TRACKER_API_URL), now=now,
                canceled_done=_checked(state, Block.TRACKER_CANCELED),
                actor_label=f"slack:{person.slack_id}")
    except OkrError as exc:
        field = getattr(exc, "field", None)
        block = _FIELDS.get(field or "", Block.TRACKER_PROVIDER)
        ack(response_action="errors", errors={str(block): str(exc)[:150]})
        return
    log.info("tracker.added", extra={"workspace_id": workspace_id, "provider": added.provider})
    ack(response_action="update", view=tracker_added_modal(
        added.provider, added.host, added.webhook_path, added.webhook_secret))


def register(app: App, env: Env) -> None:
    app.view(str(Callback.TRACKER_ADD))(on_add_submit)
    subcommand.install()
