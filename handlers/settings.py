"""Settings from App Home: the organisation's (admins), a team's (its leads and admins) and
one's own. Buttons open the modals; submissions go to app/services/scheduling/settings.py,
which decides who may and checks every value; problems come back inline."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient

from app.services.errors import OkrError
from app.services.scheduling import settings as service
from app.services.tenancy import members_source
from blocks import settings as ui
from blocks.common import usergroup_options
from blocks.ids import Action, Block, Callback
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later
from handlers.teams_sync import refresh_team_later

log = logging.getLogger(__name__)


def _open(client: WebClient, body: dict[str, Any], person: Actor,
          build: Callable[[], dict[str, Any]]) -> None:
    try:
        client.views_open(trigger_id=body["trigger_id"], view=build())
    except Exception as exc:
        log_failure("settings.open_failed", exc, user=person.slack_id)
        try:
            client.chat_postMessage(channel=person.slack_id, text=user_message(exc))
        except Exception as again:
            log_failure("settings.tell_failed", again, user=person.slack_id)


def on_open_org(ack: Ack, body: dict[str, Any], client: WebClient, env: Env, workspace_id: int,
                person: Actor | None) -> None:
    ack()
    if person is None:
        return

    def build() -> dict[str, Any]:
        with env.session() as tx:
            form = service.org_form(session=tx, workspace_id=workspace_id, person_id=person.id,
                                    env_admins=env.settings.admins)
        return ui.org_modal(form)

    _open(client, body, person, build)


def on_open_team(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 env: Env, workspace_id: int, person: Actor | None) -> None:
    ack()
    key = str(action.get("value") or "")[:100]
    if person is None or not key:
        return

    def build() -> dict[str, Any]:
        with env.session() as tx:
            form = service.team_form(session=tx, workspace_id=workspace_id,
                                     person_id=person.id, key=key,
                                     env_admins=env.settings.admins)
        return ui.team_modal(form)

    _open(client, body, person, build)


def on_open_mine(ack: Ack, body: dict[str, Any], client: WebClient, env: Env,
                 workspace_id: int, person: Actor | None) -> None:
    ack()
    if person is None:
        return

    def build() -> dict[str, Any]:
        with env.session() as tx:
            form = service.my_form(session=tx, workspace_id=workspace_id, person_id=person.id)
        return ui.my_modal(form)

    _open(client, body, person, build)


def _refused(ack: Ack, view: dict[str, Any], exc: OkrError) -> None:
    blocks = view.get("blocks") or []
    if isinstance(exc, service.SettingsInvalid):
        errors: dict[str, str] = {}
        for field, message in exc.errors.items():
            errors.setdefault(ui.error_block(field, blocks), message[:150])
    else:
        errors = {ui.error_block("", blocks): user_message(exc)[:150]}
    ack(response_action="errors", errors=errors)


def _submitted(ack: Ack, view: dict[str, Any], person: Actor | None,
               save: Callable[[Actor, dict[str, Any]], None]) -> bool:
    if person is None:
        ack()
        return False
    try:
        save(person, ui.read_state(view))
    except OkrError as exc:
        _refused(ack, view, exc)
        return False
    ack()
    return True


def on_org_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                  workspace_id: int, person: Actor | None, now: datetime) -> None:
    changed: list[tuple[str, int]] = []

    def save(me: Actor, raw: dict[str, Any]) -> None:
        with env.session() as tx:
            changed.extend(service.save_org(session=tx, workspace_id=workspace_id,
                                            person_id=me.id, raw=raw,
                                            env_admins=env.settings.admins, now=now))

    if _submitted(ack, view, person, save) and person is not None:
        # Their Settings button comes or goes.
        for slack_id, person_id in changed:
            env.actors.forget(workspace_id, slack_id)
            refresh_later(env, client, workspace_id, person_id)
        refresh_later(env, client, workspace_id, person.id)


def on_team_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                   workspace_id: int, person: Actor | None, now: datetime) -> None:
    key = str(view.get("private_metadata") or "")[:100]
    follow: list[int] = []

    def save(me: Actor, raw: dict[str, Any]) -> None:
        with env.session() as tx:
            team_id = service.save_team(session=tx, workspace_id=workspace_id, person_id=me.id,
                                        key=key, raw=raw, env_admins=env.settings.admins,
                                        now=now, slack=client)
        follow.extend([team_id] if team_id is not None else [])

    if _submitted(ack, view, person, save) and person is not None:
        for team_id in follow:  # its members are now the channel's or the group's
            refresh_team_later(env, client, workspace_id, team_id)
        refresh_later(env, client, workspace_id, person.id)


def on_my_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                 workspace_id: int, person: Actor | None, now: datetime) -> None:
    def save(me: Actor, raw: dict[str, Any]) -> None:
        raw["away_until"] = _date(raw.get("away_until"), "away_until")
        if "away_from" in raw:
            raw["away_from"] = _date(raw.get("away_from"), "away_from")
        today = now.astimezone(ZoneInfo(me.tz or "UTC")).date()
        with env.session() as tx:
            service.save_mine(session=tx, workspace_id=workspace_id, person_id=me.id, raw=raw,
                              today=today, now=now)

    if _submitted(ack, view, person, save) and person is not None:
        env.actors.forget(workspace_id, person.slack_id)
        refresh_later(env, client, workspace_id, person.id)


def _date(raw: Any, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise service.SettingsInvalid({field: "pick a date"}) from None


def on_group_options(ack: Ack, payload: dict[str, Any], client: WebClient,
                     person: Actor | None) -> None:
    """Options for the user group pickers (Team settings and the first-run checklist's new
    team), loaded while the person types; only people of this workspace get any."""
    if person is None:
        ack(options=[])
        return
    query = str(payload.get("value") or "")[:100]
    ack(**usergroup_options(members_source.group_options(client, query),
                            members_source.typed_id(query)))


def register(app: App, env: Env) -> None:
    app.options(str(Block.SET_MEMBERS_GROUP))(on_group_options)
    app.options(str(Block.SETUP_TEAM_GROUP))(on_group_options)
    app.action(str(Action.OPEN_ORG_SETTINGS))(on_open_org)
    app.action(re.compile(rf"^{re.escape(str(Action.OPEN_TEAM_SETTINGS))}(:.*)?$"))(on_open_team)
    app.action(str(Action.OPEN_MY_SETTINGS))(on_open_mine)
    app.view(str(Callback.ORG_SETTINGS))(on_org_submit)
    app.view(str(Callback.TEAM_SETTINGS))(on_team_submit)
    app.view(str(Callback.MY_SETTINGS))(on_my_submit)
