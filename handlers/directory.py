"""The directory kept current between syncs: ``team_join`` adds a person, ``user_change``
refreshes what Slack owns (name, display name, email, time zone, deactivation)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from app.services.tenancy import people
from app.services.tx import Tx
from handlers.context import Env
from handlers.events import once


def on_user_event(event: dict[str, Any], body: dict[str, Any], env: Env,
                  workspace_id: int) -> None:
    user = event.get("user")
    if not isinstance(user, dict) or not user.get("id"):
        return

    def work(tx: Tx) -> None:
        people.apply_event_user(session=tx, workspace_id=workspace_id, user=user,
                                now=env.clock())
        env.actors.forget(workspace_id, str(user["id"]))

    once(env, body, work)


def register(app: App, env: Env) -> None:
    app.event("team_join")(on_user_event)
    app.event("user_change")(on_user_event)
