"""Creating and editing OKRs from Slack: ``/okr new``, ``/okr edit <id>``, their modals, the
alignment picker's options and the Home tab's New/Edit buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CyclePhase
from app.models import Cycle, KeyResult, Objective, Person, Team, TeamMember
from app.services.errors import OkrError
from app.services.okrs import alignment, cycles, editing
from app.services.okrs import mine as personal
from blocks import editing as ui
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.router import CommandRequest, subcommand

log = logging.getLogger(__name__)

# --- building forms ---------------------------------------------------------------------------


def _choices(s: Session, workspace_id: int, now: datetime) -> tuple[list[ui.Choice],
                                                                     list[ui.Choice], str | None]:
    all_cycles = s.scalars(select(Cycle).where(Cycle.workspace_id == workspace_id)
                           .order_by(Cycle.start_date)).all()
    open_cycles = [c for c in all_cycles if c.phase != CyclePhase.CLOSED.value] or list(all_cycles)
    today = personal.today_for(s, workspace_id, now)
    current = cycles.current(session=s, workspace_id=workspace_id, today=today)
    teams = s.scalars(select(Team).where(Team.workspace_id == workspace_id)
                      .order_by(Team.name)).all()
    return ([ui.Choice(str(c.id), c.name) for c in open_cycles[-100:]],
            [ui.Choice(t.key, t.name) for t in teams[:100]],
            str(current.id) if current else None)


def objective_form(env: Env, workspace_id: int, person: Actor, now: datetime) -> ui.ObjectiveForm:
    with env.session() as s:
        cycle_choices, team_choices, current = _choices(s, workspace_id, now)
        if not cycle_choices:
            raise OkrError("there is no cycle yet: an admin can import one with `okr import`")
        my_team = s.scalar(select(Team.key).join(TeamMember, TeamMember.team_id == Team.id)
                           .where(TeamMember.person_id == person.id).order_by(Team.id).limit(1))
    return ui.ObjectiveForm(cycles=cycle_choices, teams=team_choices, cycle=current,
                            team=my_team, owner_slack_id=person.slack_id)


def _slack_id(s: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    p = s.get(Person, person_id)
    return p.slack_id if p else None


def _align_choice(s: Session, obj: Objective) -> ui.Choice | None:
    if obj.aligned_kr_id is not None:
        kr = s.get(KeyResult, obj.aligned_kr_id)
        return ui.Choice(f"k:{kr.key}", f"KR: {kr.title}") if kr else None
    if obj.aligned_objective_id is not None:
        parent = s.get(Objective, obj.aligned_objective_id)
        return ui.Choice(f"o:{parent.key}", parent.title) if parent else None
    return None


def edit_form(env: Env, workspace_id: int, person: Actor, key: str,
              now: datetime) -> dict[str, Any]:
    """The edit modal for an objective or KR key (authorization checked here)."""
    with env.session() as s:
        obj = s.scalars(select(Objective).where(Objective.workspace_id == workspace_id,
                                                Objective.key == key)).first()
        if obj is not None:
            obj = editing.objective_for_edit(session=s, workspace_id=workspace_id, actor=person,
                                             key=key)
            cycle_choices, team_choices, _ = _choices(s, workspace_id, now)
            team = s.get(Team, obj.team_id) if obj.team_id else None
            form = ui.ObjectiveForm(
                cycles=cycle_choices, teams=team_choices, cycle=str(obj.cycle_id),
                team=team.key if team else None, owner_slack_id=_slack_id(s, obj.owner_id),
                title=obj.title,
                align=_align_choice(s, obj), visibility=obj.visibility,
                commitment=obj.commitment)
            return ui.edit_objective_modal(obj.key, form)
        kr = editing.kr_for_edit(session=s, workspace_id=workspace_id, actor=person, key=key)
        kform = ui.KRForm(title=kr.title, kr_type=kr.kr_type, start=kr.start_value,
                          target=kr.target_value, unit=kr.unit, weight=kr.weight,
                          owner_slack_id=_slack_id(s, kr.owner_id), state=kr.state)
        return ui.edit_kr_modal(kr.key, kr.objective.title, kform)


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


def on_new_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, okr: Env,
                  workspace_id: int, person: Actor | None, now: datetime) -> None:
    ack()
    if person is not None:
        _open(lambda: ui.new_objective_modal(objective_form(okr, workspace_id, person, now)),
              body, client, respond, person)


def on_edit_kr_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                      respond: Respond, okr: Env, workspace_id: int, person: Actor | None,
                      now: datetime) -> None:
    ack()
    key = str(action.get("value") or "")[:100]
    if person is not None and key:
        _open(lambda: edit_form(okr, workspace_id, person, key, now), body, client, respond,
              person)


def on_add_kr(ack: Ack, body: dict[str, Any], client: WebClient, okr: Env, workspace_id: int,
              person: Actor | None, now: datetime) -> None:
    """One more KR slot: Slack keeps what was typed in inputs whose block ids stay."""
    ack()
    view = body.get("view") or {}
    if person is None or not view.get("id"):
        return
    slots = ui.slot_count(view.get("private_metadata")) + 1
    rebuilt = ui.new_objective_modal(objective_form(okr, workspace_id, person, now), slots)
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=rebuilt)
    except Exception as exc:
        log_failure("editing.add_slot_failed", exc, user=person.slack_id)


def on_align_options(ack: Ack, payload: dict[str, Any], okr: Env, workspace_id: int,
                     person: Actor | None) -> None:
    if person is None:
        ack(options=[])
        return
    query = str(payload.get("value") or "")[:100]
    with okr.session() as s:
        pairs = alignment.options(session=s, workspace_id=workspace_id, actor=person,
                                          query=query)
    ack(**ui.align_options(pairs))
