"""First-run setup from App Home: the checklist's buttons and the new team modal.

Create the current cycle, create teams from channels or user groups (their members then follow
Slack), send yourself a test prompt. Every
step is for OKR admins; the services decide (app/services/tenancy/setup.py). Each step
refreshes the person's Home, so the checklist shows what is done.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from app.services.errors import NotAllowed, OkrError
from app.services.okrs import mine
from app.services.tenancy import setup, slack_events
from app.services.tx import Tx, discard
from blocks import home_setup as ui
from blocks.ids import Action, Block, Callback
from blocks.prompt import PromptView, prompt_message
from handlers.context import Actor, Env
from handlers.errors import log_failure, user_message
from handlers.home import refresh_later
from handlers.home_setup import bot_in_channel, bot_name
from handlers.teams_sync import refresh_team_later

log = logging.getLogger(__name__)


def _label(person: Actor) -> str:
    return f"slack:{person.slack_id}"


def _tell(client: WebClient, person: Actor, exc: BaseException) -> None:
    log_failure("setup.step_failed", exc, user=person.slack_id)
    try:
        client.chat_postMessage(channel=person.slack_id, text=user_message(exc))
    except Exception as again:
        log_failure("setup.tell_failed", again, user=person.slack_id)


def on_create_cycle(ack: Ack, client: WebClient, env: Env, workspace_id: int,
                    person: Actor | None, now: datetime) -> None:
    ack()
    if person is None:
        return
    try:
        with env.session() as tx:
            setup.create_current_cycle(session=tx, workspace_id=workspace_id, actor=person,
                                       actor_label=_label(person), now=now)
    except Exception as exc:
        _tell(client, person, exc)
    refresh_later(env, client, workspace_id, person.id)


def on_new_team(ack: Ack, body: dict[str, Any], client: WebClient, person: Actor | None) -> None:
    ack()
    if person is None:
        return
    try:
        if not person.is_admin:
            raise NotAllowed(setup.ADMINS_ONLY)
        # The user group picker loads its options as the person types: nothing is asked of
        # Slack before the modal opens (the trigger lasts 3 s).
        client.views_open(trigger_id=body["trigger_id"], view=ui.team_modal())
    except Exception as exc:
        _tell(client, person, exc)


_FIELD_BLOCKS = {"name": str(Block.SETUP_TEAM_NAME), "channel": str(Block.SETUP_TEAM_CHANNEL),
                 "usergroup": str(Block.SETUP_TEAM_GROUP)}


def _team_values(view: dict[str, Any]) -> tuple[str, str, str]:
    values = (view.get("state") or {}).get("values") or {}

    def entry(block: Block) -> dict[str, Any]:
        found = (values.get(str(block)) or {}).get(str(block))
        return found if isinstance(found, dict) else {}

    name = str(entry(Block.SETUP_TEAM_NAME).get("value") or "")
    channel = str(entry(Block.SETUP_TEAM_CHANNEL).get("selected_conversation") or "")
    group = entry(Block.SETUP_TEAM_GROUP)
    picked = (group.get("selected_option") or {}).get("value") if "selected_option" in group \
        else group.get("value")
    return name, channel, str(picked or "").strip()


def on_team_submit(ack: Ack, view: dict[str, Any], client: WebClient, env: Env,
                   workspace_id: int, person: Actor | None, now: datetime) -> None:
    if person is None:
        ack(response_action="errors", errors={str(Block.SETUP_TEAM_NAME): "who are you?"})
        return
    name, channel, group = _team_values(view)
    problems = setup.team_problems(name=name, channel_id=channel, usergroup=group)
    if problems:
        ack(response_action="errors",
            errors={_FIELD_BLOCKS[field]: text[:150] for field, text in problems.items()})
        return
    created: list[int] = []
    try:
        with env.session() as tx:
            dedupe = f"view:{view.get('id')}"
            if not (view.get("id") and slack_events.already_processed(session=tx, key=dedupe)):
                team = setup.create_team(session=tx, workspace_id=workspace_id, actor=person,
                                         actor_label=_label(person), name=name,
                                         channel_id=channel or None, usergroup=group or None,
                                         now=now, slack=client)
                created.append(team.id)
                if view.get("id"):
                    slack_events.mark_processed(session=tx, key=dedupe, now=now)
    except Exception as exc:
        log_failure("setup.team_failed", exc, user=person.slack_id)
        text = str(exc) if isinstance(exc, OkrError) else user_message(exc)
        field = getattr(exc, "field", None)
        ack(response_action="errors",
            errors={_FIELD_BLOCKS.get(str(field), str(Block.SETUP_TEAM_NAME)): text[:150]})
        return
    bot_in = bot_in_channel(client, channel) if channel else None
    ack(response_action="update", view=ui.team_created(
        name.strip(), channel or None, bot_name(client), bot_in, usergroup=group or None))
    for team_id in created:  # its members are now the group's or the channel's
        refresh_team_later(env, client, workspace_id, team_id)
    refresh_later(env, client, workspace_id, person.id)


def _sample(env: Env, tx: Tx, workspace_id: int, person: Actor, now: datetime) -> PromptView:
    facts = mine.home_facts(session=tx, workspace_id=workspace_id, person_id=person.id,
                            now=now, settings=env.settings)
    cycle = facts.cycle if facts else None
    return PromptView(delivery_id=0, first_name=person.name,
                      cycle_name=cycle.name if cycle else "No cycle yet",
                      day=cycle.day if cycle else 0, total_days=cycle.total_days if cycle else 0,
                      krs=facts.my_krs if facts else ())


def on_test_prompt(ack: Ack, client: WebClient, env: Env, workspace_id: int,
                   person: Actor | None, now: datetime) -> None:
    """DM the admin a check-in prompt as the scheduler builds it, marked as a test; no
    delivery, snooze or check-in is recorded (only the audit line saying it was sent)."""
    ack()
    if person is None:
        return
    try:
        with env.session() as tx:
            setup.record_test_prompt(session=tx, workspace_id=workspace_id, actor=person,
                                     actor_label=_label(person), now=now)
            message = ui.test_prompt(prompt_message(_sample(env, tx, workspace_id, person, now)))
            try:
                client.chat_postMessage(channel=person.slack_id, **message)
            except Exception:
                discard(tx)
                raise
    except Exception as exc:
        _tell(client, person, exc)
        return
    refresh_later(env, client, workspace_id, person.id)


def register(app: App, env: Env) -> None:
    app.action(str(Action.SETUP_CYCLE))(on_create_cycle)
    app.action(str(Action.SETUP_NEW_TEAM))(on_new_team)
    app.action(str(Action.SETUP_TEST_PROMPT))(on_test_prompt)
    app.view(str(Callback.SETUP_TEAM))(on_team_submit)
