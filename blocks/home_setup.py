"""The first-run checklist at the top of App Home, while a workspace has no cycle or no team.

Admins see each step with its state and the button that does it; everyone else sees whom to
ask. Also the new team modal and the test prompt the checklist sends. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from blocks.common import (
    button,
    context,
    divider,
    escape,
    header,
    local_date,
    plain,
    section,
    usergroup_picker,
)
from blocks.ids import Action, Block, Callback

DONE = ":white_check_mark:"
TODO = ":white_circle:"
TEST_MARK = "Test prompt: nothing is recorded and its buttons are left out."


@dataclass(frozen=True, slots=True)
class TeamChannel:
    name: str
    channel_id: str | None
    bot_in: bool | None  # None: not known (Slack did not say)


@dataclass(frozen=True, slots=True)
class SetupView:
    is_admin: bool
    admin_slack_ids: Sequence[str]
    cycle_name: str | None
    suggested: tuple[str, date, date]
    teams: Sequence[TeamChannel]
    bot_name: str
    test_prompt_sent: bool


def _mark(done: bool) -> str:
    return DONE if done else TODO


def _invite_step(view: SetupView) -> dict[str, Any]:
    missing = [t for t in view.teams if t.channel_id and t.bot_in is not True]
    done = bool(view.teams) and not missing
    text = f"{_mark(done)} *3. Invite the bot to your team channels*\n"
    if not view.teams:
        text += "Add a team first."
    elif done:
        text += "The bot is in every team channel."
    else:
        text += "\n".join(f"In <#{t.channel_id}> ({escape(t.name)}) type "
                          f"`/invite @{escape(view.bot_name)}`" for t in missing[:10])
    return section(text)


def setup_blocks(view: SetupView | None) -> list[dict[str, Any]]:
    """The checklist (nothing once the workspace has a cycle and a team)."""
    if view is None:
        return []
    if not view.is_admin:
        admins = ", ".join(f"<@{a}>" for a in view.admin_slack_ids[:10])
        who = f"Ask an OKR admin to set it up: {admins}." if admins else \
            "No OKR admin is named yet: ask whoever installed the app."
        return [section(f":wave: OKRs are not set up here yet. {who}"), divider()]
    name, start, end = view.suggested
    if view.cycle_name:
        cycle = section(f"{DONE} *1. Create the current cycle*\n"
                        f"The current cycle is *{escape(view.cycle_name)}*.")
    else:
        cycle = section(f"{TODO} *1. Create the current cycle*\n*{escape(name)}*: "
                        f"{local_date(start)} to {local_date(end)}, from your fiscal calendar.",
                        accessory=button(f"Create {name}", str(Action.SETUP_CYCLE), name,
                                         style="primary"))
    names = ", ".join(escape(t.name) for t in view.teams)
    teams = section(f"{_mark(bool(view.teams))} *2. Create teams from channels or user "
                    "groups*\n" + (f"Teams: {names}" if names else
                                   "Their members follow the channel or the group."),
                    accessory=button("Add a team", str(Action.SETUP_NEW_TEAM)))
    test = section(f"{_mark(view.test_prompt_sent)} *4. Send yourself a test prompt*\n"
                   "See the check-in message people will get.",
                   accessory=button("Send me a test", str(Action.SETUP_TEST_PROMPT)))
    return [header("Set up OKRs"),
            context("A few steps to the first check-in. This list goes away once there is "
                    "a cycle and a team."),
            cycle, teams, _invite_step(view), test, divider()]


def team_modal() -> dict[str, Any]:
    """A new team from a channel or a user group (found by typing; see
    :func:`blocks.common.usergroup_picker`)."""
    channel = {"type": "conversations_select", "action_id": str(Block.SETUP_TEAM_CHANNEL),
               "placeholder": plain("Pick a channel", 150),
               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    name = {"type": "plain_text_input", "action_id": str(Block.SETUP_TEAM_NAME),
            "max_length": 200, "placeholder": plain("e.g. Platform", 150)}
    blocks: list[dict[str, Any]] = [
        section("A team's members come from a channel or a user group and follow it: "
                "people who join or leave it join or leave the team. Its digests go to "
                "the channel."),
        {"type": "input", "block_id": str(Block.SETUP_TEAM_CHANNEL), "optional": True,
         "label": plain("Channel", 2000), "element": channel},
        {"type": "input", "block_id": str(Block.SETUP_TEAM_GROUP), "optional": True,
         "label": plain("User group", 2000), "element": {"action_id": str(Block.SETUP_TEAM_GROUP),
                                                     **usergroup_picker(None)},
         "hint": plain("Members follow the group rather than the channel; digests still go "
                       "to the channel, if you pick one.", 2000)},
        {"type": "input", "block_id": str(Block.SETUP_TEAM_NAME),
         "label": plain("Team name", 2000), "element": name},
    ]
    return {"type": "modal", "callback_id": str(Callback.SETUP_TEAM),
            "title": plain("New team", 24), "submit": plain("Create", 24),
            "close": plain("Cancel", 24), "blocks": blocks}


def team_created(name: str, channel_id: str | None, bot_name: str, bot_in: bool | None,
                 *, usergroup: str | None = None) -> dict[str, Any]:
    """The modal after a team is created: where its members come from, and what to do so
    its digests reach the channel."""
    source = f"the user group <!subteam^{usergroup}>" if usergroup else f"<#{channel_id}>"
    text = f"{DONE} *{escape(name)}* is set up; its members follow {source}."
    if channel_id:
        text += f" Its digests go to <#{channel_id}>."
        if bot_in is not True:
            text += (f"\n\nThe bot is not in that channel yet: in <#{channel_id}> type "
                     f"`/invite @{escape(bot_name)}`")
    else:
        text += " Pick a channel for its digests in *Team settings*."
    return {"type": "modal", "callback_id": str(Callback.SETUP_TEAM),
            "title": plain("New team", 24), "close": plain("Done", 24),
            "blocks": [section(text)]}


def test_prompt(message: dict[str, Any]) -> dict[str, Any]:
    """A check-in prompt made harmless: marked as a test, without its buttons."""
    blocks = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
    return {"text": f"[Test] {message.get('text', '')}",
            "blocks": [context(f":test_tube: {TEST_MARK}"), *blocks]}
