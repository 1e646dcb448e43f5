"""End-of-cycle modals: self-scoring, the lead review, reflections (open and submit).

Flow: a button in the scoring DM (or ``/okr review`` / ``/okr reflect``) -> build the view
from the services -> views.open -> submit -> validate and record in one transaction (inline
errors otherwise, nothing written) -> ack -> after the ack, a short confirmation DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.services.errors import InvalidValue, OkrError
from app.services.review import actions
from app.services.review import forms as review_forms
from app.services.review.forms import FormItem
from app.services.review.scores import ScoreInput
from app.services.tx import Tx
from blocks import review as ui
from blocks.common import escape, kr_progress_text
from blocks.ids import Action, Block, Callback
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message

log = logging.getLogger(__name__)

ViewBuilder = Callable[[Tx, Env, int, Actor, datetime, str | None], dict[str, Any]]


def rows(items: list[FormItem]) -> list[ui.ScoreRow]:
    return [ui.ScoreRow(
        kr_key=i.kr.key, kr_title=i.kr.title, objective_title=i.objective.title,
        owner_name=i.kr.owner_name or i.objective.owner_name, progress=kr_progress_text(i.kr),
        computed=i.kr.score, self_score=i.scores.self_score if i.scores else None,
        evidence=i.scores.evidence if i.scores else None,
        final=i.scores.final if i.scores else None, reason=i.scores.reason if i.scores else None,
    ) for i in items]


def self_view(tx: Tx, env: Env, workspace_id: int, actor: Actor, now: datetime,
              cycle_name: str | None) -> dict[str, Any]:
    form = review_forms.self_form(session=tx, workspace_id=workspace_id, person_id=actor.id,
                                  now=now, settings=env.settings.scoring, cycle_name=cycle_name)
    if not form.items:
        return ui.notice_modal("Self-score",
                               f"You own no key results in *{escape(form.cycle_name)}*.")
    return ui.self_score_modal(rows(form.items), cycle_name=form.cycle_name,
                               deadline=form.deadline)


def lead_view(tx: Tx, env: Env, workspace_id: int, actor: Actor, now: datetime,
              cycle_name: str | None) -> dict[str, Any]:
    form = review_forms.lead_form(session=tx, workspace_id=workspace_id, person_id=actor.id,
                                  now=now, settings=env.settings.scoring, cycle_name=cycle_name,
                                  as_admin=actor.is_admin)
    if not form.items:
        return ui.notice_modal("Review scores", f"There is nothing for you to review in "
                                                f"*{escape(form.cycle_name)}*: final scores are "
                                                "set by "
                                                "team leads.")
    return ui.lead_review_modal(rows(form.items), cycle_name=form.cycle_name)


def reflect_view(tx: Tx, env: Env, workspace_id: int, actor: Actor, now: datetime,
                 cycle_name: str | None, chosen: str | None = None) -> dict[str, Any]:
    form = review_forms.reflect_form(session=tx, workspace_id=workspace_id, person_id=actor.id,
                                     now=now, cycle_name=cycle_name)
    return ui.reflect_modal(form.choices, cycle_name=form.cycle_name, chosen=chosen)


def open_view(env: Env, client: WebClient, trigger_id: str, workspace_id: int, actor: Actor,
              now: datetime, build: ViewBuilder, cycle_name: str | None, title: str) -> None:
    """Build and open a modal; a domain error opens a modal that says what is wrong."""
    try:
        with env.session() as tx:
            view = build(tx, env, workspace_id, actor, now, cycle_name)
    except OkrError as exc:
        view = ui.notice_modal(title, user_message(exc))
    client.views_open(trigger_id=trigger_id, view=view)


def _button(build: ViewBuilder, title: str) -> Callable[..., None]:
    def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                env: Env, workspace_id: int, person: Actor | None, now: datetime) -> None:
        ack()
        if person is None:
            return
        try:
            open_view(env, client, str(body.get("trigger_id")), workspace_id, person, now,
                      build, str(action.get("value") or "") or None, title)
        except Exception as exc:
            log_failure("review.open_failed", exc, user=person.slack_id)
    return handler


# --- submissions -------------------------------------------------------------------------------


def _inputs(view: dict[str, Any]) -> list[str]:
    return [str(b["block_id"]) for b in view.get("blocks", [])
            if b.get("type") == "input" and b.get("block_id")]


def _errors_for(exc: OkrError, view: dict[str, Any], fields: dict[str, Block]) -> dict[str, str]:
    """A service error -> ``{input block_id: message}`` on the block it is about."""
    present = _inputs(view)
    target = None
    if isinstance(exc, InvalidValue) and exc.field:
        name, _, key = exc.field.partition(":")
        block = fields.get(name)
        if block is not None:
            target = f"{block}:{key}" if key else str(block)
    if target not in present:
        target = present[0] if present else ""
    return {target: user_message(exc)[:150]} if target else {}


def _entries(view: dict[str, Any], score: Block, note: Block) -> tuple[list[ScoreInput],
                                                                      dict[str, str]]:
    values = (view.get("state") or {}).get("values") or {}
    entries, errors = [], {}
    for key, text, words in ui.parse_scores(values, score, note):
        try:
            entries.append(ScoreInput(kr_key=key, score=float(text or ""), note=words))
        except ValueError:
            errors[f"{score}:{key}"] = "Pick a score between 0.0 and 1.0"
    return entries, errors


def _submit_scores(final: bool, score: Block, note: Block, ack: Ack, view: dict[str, Any],
                   client: WebClient, env: Env, workspace_id: int, actor: Actor | None,
                   now: datetime) -> None:
    if actor is None:
        ack()
        return
    kind = "final" if final else "self"
    entries, errors = _entries(view, score, note)
    if errors or not entries:
        ack(response_action="errors", errors=errors or {(_inputs(view) or [""])[0]:
                                                        "Nothing to save"})
        return
    fields = {"score": score, "evidence": note, "reason": note}
    try:
        with env.session() as tx:
            cycle_name, saved = actions.submit_scores(
                session=tx, workspace_id=workspace_id, person_id=actor.id,
                cycle_name=ui.cycle_of(view.get("private_metadata")), final=final,
                entries=entries, now=now, as_admin=actor.is_admin)
    except OkrError as exc:
        log_failure("review.invalid", exc, user=actor.slack_id, kind=kind)
        ack(response_action="errors", errors=_errors_for(exc, view, fields))
        return
    ack()
    log.info("review.saved", extra={"user": actor.slack_id, "kind": kind, "rows": saved})
    what = "final scores" if final else "self scores"
    krs = f"{len(entries)} key result{'s' if len(entries) != 1 else ''}"
    env.later(_confirm, client, actor, f":white_check_mark: Saved your {what} for "
              f"*{escape(cycle_name)}* ({krs}).", cycle_name)


def submit_self(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                workspace_id: int, person: Actor | None, now: datetime) -> None:
    _submit_scores(False, Block.REVIEW_SELF, Block.REVIEW_EVIDENCE, ack, view, client, env,
                   workspace_id, person, now)


def submit_final(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                 workspace_id: int, person: Actor | None, now: datetime) -> None:
    _submit_scores(True, Block.REVIEW_FINAL, Block.REVIEW_REASON, ack, view, client, env,
                   workspace_id, person, now)


def submit_reflection(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                      workspace_id: int, person: Actor | None, now: datetime) -> None:
    if person is None:
        ack()
        return
    answers = ui.parse_reflection((view.get("state") or {}).get("values") or {})
    fields = {"objective": Block.REFLECT_OBJECTIVE, "worked": Block.REFLECT_WORKED,
              "did_not_work": Block.REFLECT_DID_NOT, "carry_forward": Block.REFLECT_CARRY}
    try:
        with env.session() as tx:
            cycle_name = actions.reflect(
                session=tx, workspace_id=workspace_id, person_id=person.id,
                cycle_name=ui.cycle_of(view.get("private_metadata")), now=now,
                objective_key=answers["objective"], worked=answers["worked"],
                did_not_work=answers["did_not_work"], carry_forward=answers["carry_forward"])
    except OkrError as exc:
        log_failure("reflection.invalid", exc, user=person.slack_id)
        ack(response_action="errors", errors=_errors_for(exc, view, fields))
        return
    ack()
    env.later(_confirm, client, person, f":memo: Thanks, your reflection on *{escape(cycle_name)}* "
              "is saved. It goes into the retrospective.", None)


def _confirm(client: WebClient, person: Actor, text: str, cycle_name: str | None) -> None:
    blocks: list[dict[str, Any]] = [{"type": "section",
                                     "text": {"type": "mrkdwn", "text": text}}]
    if cycle_name:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": str(Action.OPEN_REFLECT), "value": cycle_name,
             "text": {"type": "plain_text", "text": "Reflect on the cycle"}}]})
    try:
        client.chat_postMessage(channel=person.slack_id, text=text.replace("*", ""),
                                blocks=blocks)
    except SlackApiError as exc:
        log.error("review.confirm_failed", extra={"user": person.slack_id,
                                                   "slack_error": exc.response.get("error")})


def _reflect_builder(tx: Tx, env: Env, workspace_id: int, actor: Actor, now: datetime,
                     cycle_name: str | None) -> dict[str, Any]:
    return reflect_view(tx, env, workspace_id, actor, now, cycle_name)


def register(app: App, env: Env) -> None:
    app.action(str(Action.OPEN_SELF_SCORE))(_button(self_view, "Self-score"))
    app.action(str(Action.OPEN_LEAD_REVIEW))(_button(lead_view, "Review scores"))
    app.action(str(Action.OPEN_REFLECT))(_button(_reflect_builder, "Reflect"))
    app.view(str(Callback.SELF_SCORE))(submit_self)
    app.view(str(Callback.LEAD_REVIEW))(submit_final)
    app.view(str(Callback.REFLECT))(submit_reflection)
