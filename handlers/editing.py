"""Creating and editing OKRs from Slack: ``/okr new``, ``/okr edit <id>``, their modals, the
alignment picker's options and the Home tab's New/Edit buttons."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from app.domain import FormChoices, KREdit
from app.services.errors import OkrError
from app.services.links import kr_search
from app.services.okrs import alignment, edit_forms, plans
from blocks import editing as ui
from blocks.ids import Action
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.router import CommandRequest, Subcommands

log = logging.getLogger(__name__)
subcommand = Subcommands()

# --- building forms ---------------------------------------------------------------------------


def _choices(found: FormChoices) -> tuple[list[ui.Choice], list[ui.Choice]]:
    return ([ui.Choice(value, label) for value, label in found.cycles],
            [ui.Choice(value, label) for value, label in found.teams])


def objective_form(env: Env, workspace_id: int, person: Actor, now: datetime) -> ui.ObjectiveForm:
    with env.session() as tx:
        found = edit_forms.new_objective(session=tx, workspace_id=workspace_id,
                                         actor=person, now=now)
    if not found.cycles:
        raise OkrError("there is no cycle yet: an admin can import one with `okr import`")
    cycle_choices, team_choices = _choices(found)
    return ui.ObjectiveForm(cycles=cycle_choices, teams=team_choices, cycle=found.cycle,
                            team=found.team, owner_slack_id=person.slack_id)


def edit_form(env: Env, workspace_id: int, person: Actor, key: str,
              now: datetime) -> dict[str, Any]:
    """The edit modal for an objective or KR key (authorization checked by the service)."""
    with env.session() as tx:
        found = edit_forms.edit(session=tx, workspace_id=workspace_id, actor=person, key=key,
                                now=now)
        line = kr_search.line_for(session=tx, workspace_id=workspace_id, kr_key=found.key) \
            if isinstance(found, KREdit) else ""
    if isinstance(found, KREdit):
        kform = ui.KRForm(title=found.title, kr_type=found.kr_type, start=found.start,
                          target=found.target, unit=found.unit, weight=found.weight,
                          owner_slack_id=found.owner_slack_id, state=found.state,
                          due=found.due, targets=plans.targets_text(found.targets),
                          query=line)
        return ui.edit_kr_modal(found.key, found.objective_title, kform)
    cycle_choices, team_choices = _choices(found.choices)
    form = ui.ObjectiveForm(
        cycles=cycle_choices, teams=team_choices, cycle=found.choices.cycle,
        team=found.choices.team, owner_slack_id=found.owner_slack_id, title=found.title,
        align=ui.Choice(*found.align) if found.align else None, visibility=found.visibility,
        commitment=found.commitment)
    return ui.edit_objective_modal(found.key, form)


# --- subcommands and buttons ------------------------------------------------------------------


@subcommand("new", help="Create an objective with its key results", order=30)
def new_command(req: CommandRequest) -> None:
    req.open_modal(ui.new_objective_modal(
        objective_form(req.env, req.workspace_id, req.person, req.now)))


@subcommand("edit", help="Edit an objective or key result", usage="<id>", order=31)
def edit_command(req: CommandRequest) -> str | None:
    if not req.args:
        return "Which one? `/okr edit <id>` takes an objective or key result id (see `/okr mine`)."
    req.open_modal(edit_form(req.env, req.workspace_id, req.person, req.args[0], req.now))
    return None


def _open(build: Callable[[], dict[str, Any]], body: dict[str, Any], client: WebClient,
          respond: Respond, person: Actor) -> None:
    try:
        client.views_open(trigger_id=body["trigger_id"], view=build())
    except Exception as exc:
        log_failure("editing.open_failed", exc, user=person.slack_id)
        text = user_message(exc)
        if body.get("response_url"):
            respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            client.chat_postMessage(channel=person.slack_id, text=text)


def on_new_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, env: Env,
                  workspace_id: int, person: Actor | None, now: datetime) -> None:
    ack()
    if person is not None:
        _open(lambda: ui.new_objective_modal(objective_form(env, workspace_id, person, now)),
              body, client, respond, person)


def on_edit_kr_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                      respond: Respond, env: Env, workspace_id: int, person: Actor | None,
                      now: datetime) -> None:
    ack()
    key = str(action.get("value") or "")[:100]
    if person is not None and key:
        _open(lambda: edit_form(env, workspace_id, person, key, now), body, client, respond,
              person)


def on_add_kr(ack: Ack, body: dict[str, Any], client: WebClient, env: Env, workspace_id: int,
              person: Actor | None, now: datetime) -> None:
    """One more KR slot: Slack keeps what was typed in inputs whose block ids stay."""
    ack()
    view = body.get("view") or {}
    if person is None or not view.get("id"):
        return
    slots = ui.slot_count(view.get("private_metadata")) + 1
    rebuilt = ui.new_objective_modal(objective_form(env, workspace_id, person, now), slots)
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=rebuilt)
    except Exception as exc:
        log_failure("editing.add_slot_failed", exc, user=person.slack_id)


def on_align_options(ack: Ack, payload: dict[str, Any], env: Env, workspace_id: int,
                     person: Actor | None) -> None:
    if person is None:
        ack(options=[])
        return
    query = str(payload.get("value") or "")[:100]
    with env.session() as tx:
        pairs = alignment.options(session=tx, workspace_id=workspace_id, actor=person,
                                  query=query)
    ack(**ui.align_options(pairs))


def register(app: App, env: Env) -> None:
    app.action(str(Action.NEW_OBJECTIVE))(on_new_button)
    app.action(re.compile(rf"^{re.escape(str(Action.EDIT_KR))}(:.*)?$"))(on_edit_kr_button)
    app.action(str(Action.ADD_KR))(on_add_kr)
    app.options(str(Action.ALIGN_SELECT))(on_align_options)
    subcommand.install()
