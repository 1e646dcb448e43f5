"""Edit and Undo on a checked-in summary (the DM) or on App Home's recent check-ins.

Edit: button -> views.open of the Edit modal (the check-in's values) -> submit -> one
correction in one transaction (inline errors otherwise) -> after the ack: redraw the summary,
refresh Home. Undo: button -> one undo in one transaction -> an ephemeral word on what the KR
is back to -> redraw the summary, refresh Home. The server decides who may (the check-in's
author or an admin) and until when (Undo: 24 hours); a second tap on Undo records nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.domain import CheckinEntry, CheckinSource
from app.services.checkins import corrections
from app.services.errors import InvalidValue, OkrError
from blocks import checkin as ui
from blocks import corrections as fix_ui
from blocks.checkin_edit import edit_modal
from blocks.common import escape, local_datetime, pct
from blocks.ids import Action, Block, Callback
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later

log = logging.getLogger(__name__)

FIELD_BLOCKS = {"value": Block.CHECKIN_VALUE, "score": Block.CHECKIN_VALUE,
                "status": Block.CHECKIN_STATUS, "confidence": Block.CHECKIN_CONFIDENCE,
                "note": Block.CHECKIN_NOTE, "blockers": Block.CHECKIN_BLOCKERS}


def _message(body: dict[str, Any]) -> tuple[str | None, str | None, list[int]]:
    """The summary message the button sits in: (channel, ts, the check-ins it lists)."""
    container = body.get("container") or {}
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None, None, []
    blocks = (body.get("message") or {}).get("blocks") or []
    return (container.get("channel_id"), container.get("message_ts"),
            fix_ui.summary_ids(blocks))


def _tell(client: WebClient, body: dict[str, Any], person: Actor, text: str,
          respond: Respond) -> None:
    try:
        if body.get("response_url"):
            respond(text=text, replace_original=False, response_type="ephemeral")
        else:  # App Home has no response_url
            client.chat_postMessage(channel=person.slack_id, text=text)
    except SlackApiError:
        log.error("correction.tell_failed", extra={"user": person.slack_id})


def _target(action: dict[str, Any], body: dict[str, Any], person: Actor | None
            ) -> tuple[int, tuple[str | None, str | None, list[int]]] | None:
    """The check-in a button names and the message it sits on; None for a button without
    a person or a readable check-in id."""
    wanted = fix_ui.checkin_id(action.get("value"))
    if person is None or wanted is None:
        return None
    return wanted, _message(body)


def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
              respond: Respond, env: Env, workspace_id: int, person: Actor | None,
              now: datetime) -> None:
    """Edit or Undo on a checked-in summary (the DM or App Home)."""
    ack()
    target = _target(action, body, person)
    if target is None or person is None:
        return
    undo = str(action.get("action_id", "")).startswith(f"{Action.UNDO_CHECKIN}:")
    (_undo if undo else _edit)(body, client, respond, env, workspace_id, person, now, *target)


def _edit(body: dict[str, Any], client: WebClient, respond: Respond, env: Env,
          workspace_id: int, person: Actor, now: datetime, wanted: int,
          message: tuple[str | None, str | None, list[int]]) -> None:
    channel, ts, shown = message
    try:
        with env.session() as tx:
            form = corrections.edit_form(session=tx, workspace_id=workspace_id,
                                         checkin_id=wanted, actor=person, now=now,
                                         settings=env.settings.scoring)
        meta = fix_ui.CorrectMeta(checkin_id=form.entry.id, channel=channel, ts=ts,
                                  shown=tuple(shown))
        client.views_open(trigger_id=body["trigger_id"],
                          view=edit_modal(form.kr, form.entry, meta=meta,
                                         fields=env.settings.checkin_fields))
    except Exception as exc:
        log_failure("correction.open_failed", exc, user=person.slack_id)
        _tell(client, body, person, user_message(exc), respond)


def _errors(exc: InvalidValue | OkrError, kr_key: str, view: dict[str, Any]) -> dict[str, str]:
    present = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    field = exc.field if isinstance(exc, InvalidValue) else None
    target = ui.bid(FIELD_BLOCKS.get(field or "", Block.CHECKIN_STATUS), kr_key)
    if target not in present:
        target = next((str(b) for b in present if b), "")
    return {target: str(exc)[:150]} if target else {}


def on_edit_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                   workspace_id: int, person: Actor | None, now: datetime) -> None:
    meta = fix_ui.CorrectMeta.decode(view.get("private_metadata"))
    answers = list(ui.parse_state((view.get("state") or {}).get("values") or {}).values())
    if person is None or meta is None or len(answers) != 1:
        ack()
        return
    try:
        with env.session() as tx:
            entry = corrections.correct(
                session=tx, workspace_id=workspace_id, checkin_id=meta.checkin_id,
                answer=answers[0], actor=person, actor_label=f"slack:{person.slack_id}",
                source=CheckinSource.SLACK, now=now, typed=True,
                idempotency_key=f"slack:{view.get('id')}:correct")
    except OkrError as exc:
        log_failure("correction.refused", exc, user=person.slack_id)
        ack(response_action="errors",
            errors=_errors(exc, answers[0].kr_key, view) or {"": str(exc)})
        return
    except Exception as exc:
        log_failure("correction.failed", exc, user=person.slack_id)
        errors = _errors(OkrError(user_message(exc)), answers[0].kr_key, view)
        ack(response_action="errors", errors=errors) if errors else ack()
        return
    ack()
    log.info("correction.recorded", extra={"user": person.slack_id, "checkin": entry.id})
    shown = [entry.id if i == meta.checkin_id else i for i in meta.shown]
    env.later(after_correction, env, client, workspace_id, person, meta.channel, meta.ts,
              shown)


def _undo(body: dict[str, Any], client: WebClient, respond: Respond, env: Env,
          workspace_id: int, person: Actor, now: datetime, wanted: int,
          message: tuple[str | None, str | None, list[int]]) -> None:
    channel, ts, shown = message
    try:
        with env.session() as tx:
            entry, recorded = corrections.undo(
                session=tx, workspace_id=workspace_id, checkin_id=wanted, actor=person,
                actor_label=f"slack:{person.slack_id}", source=CheckinSource.SLACK, now=now)
    except Exception as exc:
        log_failure("correction.undo_failed", exc, user=person.slack_id)
        _tell(client, body, person, user_message(exc), respond)
        return
    if not recorded:
        _tell(client, body, person, "That check-in was already undone.", respond)
        return
    log.info("correction.undone", extra={"user": person.slack_id, "checkin": entry.id})
    _tell(client, body, person, _undone_text(entry), respond)
    env.later(after_correction, env, client, workspace_id, person, channel, ts, shown)


def _undone_text(e: CheckinEntry) -> str:
    back = "no check-in" if e.status is None and e.score is None else \
        f"{pct(e.score) if e.score is not None else '–'}" + (f", {e.status}" if e.status else "")
    return f":leftwards_arrow_with_hook: Undone: *{escape(e.kr_title)}* is back to {back}."


def after_correction(env: Env, client: WebClient, workspace_id: int, person: Actor,
                     channel: str | None, ts: str | None, shown: list[int]) -> None:
    """After the ack: redraw the summary the buttons sat in, and refresh Home."""
    if channel and ts and shown:
        with env.session() as tx:
            entries = corrections.summary(session=tx, workspace_id=workspace_id,
                                          checkin_ids=shown, now=env.clock())
        if entries:
            first = min(e.at for e in entries).astimezone(ZoneInfo(person.tz))
            text, blocks = ui.checked_in_message([ui.CheckedIn.of(e) for e in entries],
                                                 when=f"on {local_datetime(first)}")
            try:
                client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            except SlackApiError as exc:
                log.error("correction.summary_update_failed",
                          extra={"channel": channel, "slack_error": exc.response.get("error")})
    refresh_later(env, client, workspace_id, person.id)


def register(app: App, env: Env) -> None:
    ids = "|".join(re.escape(str(a)) for a in (Action.EDIT_CHECKIN, Action.UNDO_CHECKIN))
    app.action(re.compile(rf"^(?:{ids}):\d+$"))(on_button)
    app.view(str(Callback.CORRECT_CHECKIN))(on_edit_submit)
