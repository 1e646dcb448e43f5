"""The check-in prompt's buttons: snooze 2 h, snooze until tomorrow, skip this week.

("Check in" is ``Action.OPEN_CHECKIN``, handled by handlers/checkin.py.) Each button carries
the delivery id; the service checks the clicking user is the one the prompt was for. The
prompt message is replaced by a short confirmation, so the buttons cannot be pressed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond

from app.services.scheduling import personal
from blocks.common import local_date, local_datetime
from blocks.ids import Action
from blocks.prompt import skipped_message, snoozed_message
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message

log = logging.getLogger(__name__)


def _delivery_id(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    try:
        return int(str(actions[0].get("value") or ""))
    except ValueError:
        return None


def _act(what: str, body: dict[str, Any], respond: Respond, env: Env, workspace_id: int,
         person: Actor | None, now: datetime) -> None:
    delivery_id = _delivery_id(body)
    if person is None or delivery_id is None:
        respond(text="That button is not valid any more.", response_type="ephemeral",
                replace_original=False)
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


def register(app: App, env: Env) -> None:
    app.action(str(Action.SNOOZE_2H))(_handler("2h"))
    app.action(str(Action.SNOOZE_TOMORROW))(_handler("tomorrow"))
    app.action(str(Action.SKIP_WEEK))(_handler("skip"))
