"""Being away: ``/okr away <date>``, ``/okr back`` and the Home tab's buttons and modal."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient

from app.services.errors import InvalidValue
from app.services.tenancy import people
from blocks.away import away_modal
from blocks.common import local_date
from blocks.ids import Action, Block, Callback
from handlers.context import Actor, Env
from handlers.dates import parse_until
from handlers.errors import log_failure
from handlers.home import refresh_later
from handlers.router import CommandRequest, Reply, Subcommands

log = logging.getLogger(__name__)
MAX_AWAY = timedelta(days=366)
subcommand = Subcommands()


def _today(person: Actor, now: datetime) -> date:
    return now.astimezone(ZoneInfo(person.tz or "UTC")).date()


def set_away(env: Env, person: Actor, until: date | None, now: datetime) -> date | None:
    """Set (or clear) someone's absence; returns the date they were away until before."""
    today = _today(person, now)
    if until is not None and until - today > MAX_AWAY:
        raise InvalidValue("that is more than a year away: pick an earlier date", field="until")
    with env.session() as tx:
        before = people.set_away_of(session=tx, person_id=person.id, until=until, today=today,
                                    now=now)
    env.actors.forget(person.workspace_id, person.slack_id)
    return before


@subcommand("away", help="Pause my check-in prompts until a date", usage="<date>", order=40)
def away(req: CommandRequest) -> Reply:
    until = parse_until(req.text, _today(req.person, req.now))
    set_away(req.env, req.person, until, req.now)
    refresh_later(req.env, req.client, req.workspace_id, req.person.id)
    return Reply(f":palm_tree: Enjoy! No check-in prompts until you are back after "
                 f"{local_date(until)}. `/okr back` ends it early.")


@subcommand("back", help="I'm back: resume my check-in prompts", order=41)
def back(req: CommandRequest) -> Reply:
    if set_away(req.env, req.person, None, req.now) is None:
        return Reply("You were not marked away: your check-in prompts are on.")
    refresh_later(req.env, req.client, req.workspace_id, req.person.id)
    return Reply(":wave: Welcome back! Your check-in prompts are on again.")


def on_go_away(ack: Ack, body: dict[str, Any], client: WebClient, person: Actor | None,
               now: datetime) -> None:
    ack()
    if person is None:
        return
    try:
        client.views_open(trigger_id=body["trigger_id"],
                          view=away_modal(_today(person, now) + timedelta(days=7)))
    except Exception as exc:
        log_failure("away.open_failed", exc, user=person.slack_id)


def on_come_back(ack: Ack, client: WebClient, env: Env, workspace_id: int,
                 person: Actor | None, now: datetime) -> None:
    ack()
    if person is None:
        return
    set_away(env, person, None, now)
    refresh_later(env, client, workspace_id, person.id)


def on_away_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                   workspace_id: int, person: Actor | None, now: datetime) -> None:
    if person is None:
        ack()
        return
    state = (view.get("state") or {}).get("values") or {}
    picked = (state.get(str(Block.AWAY_UNTIL)) or {}).get(str(Block.AWAY_UNTIL)) or {}
    raw = picked.get("selected_date")
    try:
        if not isinstance(raw, str):
            raise InvalidValue("pick the last day you are away", field="until")
        until = date.fromisoformat(raw)
        set_away(env, person, until, now)
    except (InvalidValue, ValueError) as exc:
        message = exc.message if isinstance(exc, InvalidValue) else "pick a date"
        ack(response_action="errors", errors={str(Block.AWAY_UNTIL): message})
        return
    ack()
    refresh_later(env, client, workspace_id, person.id)


def register(app: App, env: Env) -> None:
    app.action(str(Action.GO_AWAY))(on_go_away)
    app.action(str(Action.COME_BACK))(on_come_back)
    app.view(str(Callback.AWAY))(on_away_submit)
    subcommand.install()
