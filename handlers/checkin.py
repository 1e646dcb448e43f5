"""The check-in modal: open it (``/okr checkin``, a DM prompt or Home button), take the submit.

Flow: button -> views.open (before anything slow: the trigger lives 3 s) -> submit -> validate
and record in one transaction (inline errors otherwise) -> ack (close, or the next page) ->
after the ack: chat.update the DM prompt to a summary, refresh the App Home.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.domain import CheckinEntry, KRView
from app.services.checkins import corrections
from app.services.checkins import forms as checkin_forms
from app.services.okrs import mine
from app.services.tx import discard
from blocks import checkin as ui
from blocks.common import local_datetime
from blocks.ids import Action, Block, Callback
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later
from handlers.router import CommandRequest, Subcommands

log = logging.getLogger(__name__)
subcommand = Subcommands()

FIELD_BLOCKS = {"value": Block.CHECKIN_VALUE, "status": Block.CHECKIN_STATUS,
                "confidence": Block.CHECKIN_CONFIDENCE, "note": Block.CHECKIN_NOTE,
                "blockers": Block.CHECKIN_BLOCKERS, "kr": Block.CHECKIN_STATUS}


def my_open_krs(env: Env, workspace_id: int, person: Actor, now: datetime,
                only: tuple[str, ...] = ()) -> tuple[str | None, list[KRView]]:
    with env.session() as tx:
        report = mine.current_report(session=tx, workspace_id=workspace_id, now=now,
                                         settings=env.settings.scoring,
                                         cache=env.report_cache)
    if report is None:
        return None, []
    krs = mine.owned_krs(report, person.slack_id)
    if only:
        chosen = [kr for kr in krs if kr.key in only]
        krs = chosen or krs
    return report.cycle.name, krs


def build_modal(env: Env, workspace_id: int, person: Actor, now: datetime,
                meta: ui.CheckinMeta) -> dict[str, Any]:
    cycle, krs = my_open_krs(env, workspace_id, person, now, meta.kr_keys)
    if not krs:
        return ui.empty_modal("You have no open key results to check in on right now. "
                              "Create one with `/okr new`.")
    pages = ui.pages(krs)
    page = min(meta.page, len(pages) - 1)
    meta = ui.CheckinMeta(channel=meta.channel, ts=meta.ts, delivery_id=meta.delivery_id,
                          page=page, kr_keys=meta.kr_keys, done=meta.done, pages=len(pages))
    return ui.modal(pages[page], meta=meta, total_pages=len(pages), cycle_name=cycle,
                    fields=env.settings.checkin_fields)


@subcommand("checkin", help="Check in on all my open key results", order=10,
            aliases=("check-in", "ci"))
def checkin_command(req: CommandRequest) -> None:
    view = build_modal(req.env, req.workspace_id, req.person, req.now, ui.CheckinMeta())
    req.open_modal(view)


def open_from_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                     respond: Respond, env: Env, workspace_id: int, person: Actor | None,
                     now: datetime) -> None:
    ack()
    if person is None:
        return
    wanted = ui.parse_open_value(action.get("value"))
    container = body.get("container") or {}
    channel = ts = None
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        channel, ts = container.get("channel_id"), container.get("message_ts")
    meta = ui.CheckinMeta(channel=channel, ts=ts, delivery_id=wanted.delivery_id,
                          kr_keys=wanted.kr_keys)
    try:
        view = build_modal(env, workspace_id, person, now, meta)
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:
        log_failure("checkin.open_failed", exc, user=person.slack_id)
        _tell(client, body, person, user_message(exc), respond)


def _tell(client: WebClient, body: dict[str, Any], person: Actor, text: str,
          respond: Respond | None) -> None:
    try:
        if respond is not None and body.get("response_url"):
            respond(text=text, replace_original=False, response_type="ephemeral")
        else:
            client.chat_postMessage(channel=person.slack_id, text=text)
    except SlackApiError:
        log.error("checkin.tell_failed", extra={"user": person.slack_id})


def _error_map(errors: dict[tuple[str, str], str], view: dict[str, Any]) -> dict[str, str]:
    """Service errors -> ``{input block_id: message}``, only for blocks this view has."""
    present = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    out: dict[str, str] = {}
    for (kr_key, fld), message in errors.items():
        target = ui.bid(FIELD_BLOCKS.get(fld, Block.CHECKIN_STATUS), kr_key)
        if target not in present:
            target = ui.bid(Block.CHECKIN_STATUS, kr_key)
        if target not in present:
            target = next((b for b in present if b), "")
        if target:
            out.setdefault(target, message[:150])
    return out


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, env: Env,
           workspace_id: int, person: Actor | None, now: datetime) -> None:
    if person is None:
        ack()
        return
    meta = ui.CheckinMeta.decode(view.get("private_metadata"))
    answers = ui.parse_state((view.get("state") or {}).get("values") or {})
    raw = list(answers.values())
    try:
        with env.session() as tx:
            outcome = checkin_forms.submit(
                session=tx, workspace_id=workspace_id, actor=person,
                actor_label=f"slack:{person.slack_id}", answers=raw, now=now,
                key_prefix=f"slack:{view.get('id')}:{meta.page}",
                track=env.report_cache.tracks(workspace_id))
            if not outcome.ok:
                discard(tx)
    except Exception as exc:
        log_failure("checkin.submit_failed", exc, user=person.slack_id)
        first = _error_map({("", "kr"): user_message(exc)}, view)
        ack(response_action="errors", errors=first) if first else ack()
        return
    if not outcome.ok:
        errors = _error_map(outcome.errors, view)
        log.info("checkin.invalid", extra={"user": person.slack_id, "errors": len(errors)})
        ack(response_action="errors", errors=errors or {"": "invalid submission"})
        return
    for change in outcome.changes:  # committed: later reads need not score the cycle anew
        env.report_cache.note_write(workspace_id, change)
    keys = [a.kr_key for a in raw]
    next_meta = ui.CheckinMeta(channel=meta.channel, ts=meta.ts, delivery_id=meta.delivery_id,
                               page=meta.page + 1, kr_keys=meta.kr_keys,
                               done=meta.done + len(keys), pages=meta.pages)
    # A modal that opened with one page has no next one: skip re-reading the cycle.
    next_view = _next_page(env, workspace_id, person, now, next_meta) \
        if meta.pages > 1 else None
    if next_view is not None:
        ack(response_action="update", view=next_view)
    else:
        ack()
    log.info("checkin.recorded", extra={"user": person.slack_id, "krs": len(keys)})
    env.later(after_checkin, env, client, workspace_id, person, meta, keys,
              key_prefix=f"slack:{view.get('id')}:{meta.page}", last_page=next_view is None,
              entries=outcome.entries)


def _next_page(env: Env, workspace_id: int, person: Actor, now: datetime,
               meta: ui.CheckinMeta) -> dict[str, Any] | None:
    _, krs = my_open_krs(env, workspace_id, person, now, meta.kr_keys)
    pages = ui.pages(krs)
    if meta.page >= len(pages) or not pages[meta.page]:
        return None
    meta = ui.CheckinMeta(channel=meta.channel, ts=meta.ts, delivery_id=meta.delivery_id,
                          page=meta.page, kr_keys=meta.kr_keys, done=meta.done,
                          pages=len(pages))
    return ui.modal(pages[meta.page], meta=meta, total_pages=len(pages),
                    fields=env.settings.checkin_fields)


def after_checkin(env: Env, client: WebClient, workspace_id: int, person: Actor,
                  meta: ui.CheckinMeta, keys: list[str], *, key_prefix: str,
                  last_page: bool = True, entries: Sequence[CheckinEntry] = ()) -> None:
    """After the ack: turn the DM prompt into a summary and refresh the Home tab.

    ``entries``: the submission's check-ins as it recorded them (else they are read back)."""
    if meta.channel and meta.ts and last_page:
        if not entries:
            with env.session() as tx:
                entries = corrections.recorded(session=tx, workspace_id=workspace_id,
                                               key_prefix=key_prefix, kr_keys=keys,
                                               now=env.clock())
        done = [ui.CheckedIn.of(e) for e in entries]  # with Edit and Undo
        when = local_datetime(env.clock().astimezone(ZoneInfo(person.tz)))
        # On a paginated check-in, earlier pages count too (listed only on their own pages).
        text, blocks = ui.checked_in_message(done, when=f"on {when}", earlier=meta.done)
        try:
            client.chat_update(channel=meta.channel, ts=meta.ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.error("checkin.prompt_update_failed",
                      extra={"channel": meta.channel, "slack_error": exc.response.get("error")})
    refresh_later(env, client, workspace_id, person.id)


def register(app: App, env: Env) -> None:
    app.action(str(Action.OPEN_CHECKIN))(open_from_button)
    app.view(str(Callback.CHECKIN))(submit)
    subcommand.install()
