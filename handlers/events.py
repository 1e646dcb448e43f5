"""Workspace events: the app being uninstalled (people changing: handlers/directory.py).

Each event is processed once: its ``event_id`` is recorded after the work succeeded (the
middleware in app/slack.py skips ids already recorded), so a retry after a failure runs again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from app.services.tenancy import retention, slack_events, workspaces
from app.services.tx import Tx
from handlers.context import Env

log = logging.getLogger(__name__)


def once(env: Env, body: dict[str, Any], work: Callable[[Tx], None]) -> None:
    """Run ``work(tx)`` and record the event id in the same transaction."""
    event_id = str(body.get("event_id") or "")
    with env.session() as tx:
        if event_id and slack_events.already_processed(session=tx, key=event_id):
            return
        work(tx)
        if event_id:
            slack_events.mark_processed(session=tx, key=event_id, now=env.clock())


def on_tokens_revoked(event: dict[str, Any], body: dict[str, Any], env: Env,
                      workspace_id: int) -> None:
    _revoke_tokens(env, body, event)
    _uninstalled(env, body, workspace_id, "tokens_revoked")


def on_app_uninstalled(body: dict[str, Any], env: Env, workspace_id: int) -> None:
    store = env.installation_store
    if store is not None:
        store.delete_all(enterprise_id=body.get("enterprise_id"), team_id=body.get("team_id"))
    _uninstalled(env, body, workspace_id, "app_uninstalled", disable=True)


def register(app: App, env: Env) -> None:
    app.event("tokens_revoked")(on_tokens_revoked)
    app.event("app_uninstalled")(on_app_uninstalled)


def _revoke_tokens(env: Env, body: dict[str, Any], event: dict[str, Any]) -> None:
    """Delete the revoked tokens: a revoked bot token takes every row of the installation
    with it (installation rows hold a copy of the bot token and its refresh token)."""
    store = env.installation_store
    if store is None:
        return
    tokens = event.get("tokens") or {}
    enterprise_id, team_id = body.get("enterprise_id"), body.get("team_id")
    if tokens.get("bot"):
        store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        return
    for user_id in tokens.get("oauth") or []:
        store.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


def _uninstalled(env: Env, body: dict[str, Any], workspace_id: int, reason: str, *,
                 disable: bool = False) -> None:
    """Audit it (and with ``disable``, stop serving the workspace and schedule the deletion
    of its data); forget the cached workspace. OAuth tokens are deleted by the caller."""
    team_id = str(body.get("team_id") or "")

    def work(tx: Tx) -> None:
        workspaces.record_uninstall(session=tx, workspace_id=workspace_id, reason=reason,
                                    team_id=team_id, now=env.clock())
        if disable:
            retention.disable(session=tx, workspace_id=workspace_id, now=env.clock(),
                              retention_days=env.settings.retention_days, reason=reason)

    once(env, body, work)
    env.workspace_ids.pop(team_id, None)
    cache = getattr(env.authorize, "authorize_result_cache", None)
    if isinstance(cache, dict):
        cache.clear()
    log.info("slack.uninstalled", extra={"team": team_id, "reason": reason})
