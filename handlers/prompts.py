"""The check-in prompt's buttons: no change, snooze 2 h, snooze until tomorrow, skip this week.

("Check in" is ``Action.OPEN_CHECKIN``, handled by handlers/checkin.py.) Each button carries
the delivery id; the service checks the clicking user is the one the prompt was for. The
prompt message is replaced by a short confirmation, so the buttons cannot be pressed twice.
"No change" checks in on the prompt's KRs (app/services/checkins/no_change.py) under an
idempotency key derived from the delivery, so a double tap that still reaches us records once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.domain import TrafficLight
from app.services.checkins import no_change
from app.services.scheduling import personal
from app.services.tx import discard
from blocks.checkin import CheckedIn, parse_open_value
from blocks.common import local_date, local_datetime
from blocks.ids import Action
from blocks.prompt import (
    NOTHING_TO_REPEAT,
    no_change_message,
    skipped_message,
    snoozed_message,
)
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later

log = logging.getLogger(__name__)


def _delivery_id(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    try:
        return int(str(actions[0].get("value") or ""))
    except ValueError:
        return None


def _stale_button(respond: Respond) -> None:
    respond(text="That button is not valid any more.", response_type="ephemeral",
            replace_original=False)


def _act(what: str, body: dict[str, Any], respond: Respond, env: Env, workspace_id: int,
         person: Actor | None, now: datetime) -> None:
    delivery_id = _delivery_id(body)
    if person is None or delivery_id is None:
        _stale_button(respond)
        return
    try:
        with env.session() as tx:
            if what == "skip":
                week = personal.skip_week(session=tx, workspace_id=workspace_id,
                                          person_id=person.id, delivery_id=delivery_id, now=now)
                message = skipped_message(local_date(week))
            else:
                at = personal.snooze(session=tx, workspace_id=workspace_id, person_id=person.id,
                                     delivery_id=delivery_id, until=what, now=now)
                message = snoozed_message(local_datetime(at))
    except Exception as exc:
        log_failure("prompt.button_failed", exc, action=what, user=person.slack_id)
        respond(text=user_message(exc), response_type="ephemeral", replace_original=False)
        return
    respond(replace_original=True, **message)


def _handler(what: str) -> Callable[..., None]:
    def handle(ack: Ack, body: dict[str, Any], respond: Respond, env: Env, workspace_id: int,
               person: Actor | None, now: datetime) -> None:
        ack()
        _act(what, body, respond, env, workspace_id, person, now)

    handle.__name__ = f"on_prompt_{what}"
    return handle


def _no_change_key(body: dict[str, Any], delivery_id: int | None) -> str | None:
    """The tap's idempotency prefix: the delivery, else the prompt message itself."""
    if delivery_id is not None:
        return f"slack:nochange:{delivery_id}"
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    return f"slack:nochange:{channel}:{ts}" if channel and ts else None


def on_no_change(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 respond: Respond, env: Env, workspace_id: int, person: Actor | None,
                 now: datetime) -> None:
    ack()
    wanted = parse_open_value(action.get("value"))
    key = _no_change_key(body, wanted.delivery_id)
    if person is None or key is None:
        _stale_button(respond)
        return
    try:
        with env.session() as tx:
            outcome = no_change.repeat_last(
                session=tx, workspace_id=workspace_id, actor=person, slack_id=person.slack_id,
                actor_label=f"slack:{person.slack_id}", kr_keys=wanted.kr_keys,
                key_prefix=key, now=now, settings=env.settings.scoring,
                cache=env.report_cache)
            if not outcome.ok:
                discard(tx)
    except Exception as exc:
        log_failure("prompt.no_change_failed", exc, user=person.slack_id)
        respond(text=user_message(exc), response_type="ephemeral", replace_original=False)
        return
    if not outcome.ok or not outcome.recorded:
        problem = next(iter(outcome.errors.values()), None)
        respond(text=f":warning: {problem}" if problem else NOTHING_TO_REPEAT,
                response_type="ephemeral", replace_original=False)
        return
    lights = {t.value: t for t in TrafficLight}
    done = [CheckedIn(title, lights.get(status or ""), score)
            for title, status, score in outcome.recorded]
    when = local_datetime(now.astimezone(ZoneInfo(person.tz)))
    respond(replace_original=True, **no_change_message(
        done, outcome.skipped, when=f"on {when}", delivery_id=wanted.delivery_id))
    log.info("prompt.no_change", extra={"user": person.slack_id, "krs": len(done),
                                        "skipped": len(outcome.skipped)})
    refresh_later(env, client, workspace_id, person.id)


def register(app: App, env: Env) -> None:
    app.action(str(Action.NO_CHANGE))(on_no_change)
    app.action(str(Action.SNOOZE_2H))(_handler("2h"))
    app.action(str(Action.SNOOZE_TOMORROW))(_handler("tomorrow"))
    app.action(str(Action.SKIP_WEEK))(_handler("skip"))
