"""Teams that follow a Slack channel or user group: people joining or leaving it join or
leave the team (``member_joined_channel``, ``member_left_channel``,
``subteam_members_changed``). Each event is applied once (see handlers.events.once).
:func:`refresh_team_later` brings one team in step after the ack, once its source is set, and
when the app itself is invited to a channel its teams follow (it can read it from then on)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from app.services.tenancy import teams_sync
from app.services.tx import Tx
from handlers.context import Env
from handlers.events import once


def _channel_event(kind: str) -> Any:
    def listener(event: dict[str, Any], body: dict[str, Any], client: WebClient,
                 context: BoltContext, env: Env, workspace_id: int) -> None:
        user, channel = event.get("user"), event.get("channel")
        if not isinstance(user, str) or not isinstance(channel, str):
            return
        apply = teams_sync.joined if kind == "joined" else teams_sync.left
        invited: list[int] = []

        def work(tx: Tx) -> None:
            if kind == "joined" and user == context.bot_user_id:
                # The app was invited: now it can read the channel's members.
                invited.extend(t.id for t in teams_sync.following(
                    session=tx, workspace_id=workspace_id, kind="channel", slack_id=channel))
                return
            apply(session=tx, workspace_id=workspace_id, kind="channel", slack_id=channel,
                  users=[user], now=env.clock())

        once(env, body, work)
        for team_id in invited:
            refresh_team_later(env, client, workspace_id, team_id)

    listener.__name__ = f"on_member_{kind}_channel"
    return listener


def on_subteam_members_changed(event: dict[str, Any], body: dict[str, Any], env: Env,
                               workspace_id: int) -> None:
    group = event.get("subteam_id")
    if not isinstance(group, str):
        return
    added = [u for u in event.get("added_users") or [] if isinstance(u, str)]
    removed = [u for u in event.get("removed_users") or [] if isinstance(u, str)]

    def work(tx: Tx) -> None:
        teams_sync.group_changed(session=tx, workspace_id=workspace_id, usergroup=group,
                                 added=added, removed=removed, now=env.clock())

    once(env, body, work)


def refresh_team_later(env: Env, client: WebClient, workspace_id: int, team_id: int) -> None:
    """Make a team's members those of its channel or group now, after the ack (a channel of
    thousands takes a few pages). Slack refusing leaves the members as they were."""

    def run() -> None:
        with env.session() as tx:
            teams_sync.refresh(tx, client, workspace_id, team_id, now=env.clock())

    env.later(run)


def register(app: App, env: Env) -> None:
    app.event("member_joined_channel")(_channel_event("joined"))
    app.event("member_left_channel")(_channel_event("left"))
    app.event("subteam_members_changed")(on_subteam_members_changed)
