"""Slack listeners, one module per surface.

Every module has ``register(app, env)``: it adds its Bolt listeners to ``app`` and its ``/okr``
subcommands to the router's registry. ``register_all`` calls them in the order of
``REGISTERS`` (add yours there). The order does not change help: subcommands list by their own
``order``, then name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from handlers import (
    checkin,
    cmd_links,
    cmd_person,
    cmd_review,
    cmd_schedule,
    cmd_team,
    cmd_view,
    command,
    conversation,
    corrections,
    directory,
    editing,
    editing_submit,
    events,
    home,
    prompts,
    review,
    settings,
    setup,
    teams_sync,
    trackers,
)

if TYPE_CHECKING:
    from slack_bolt import App

    from handlers.context import Env

REGISTERS: tuple[Callable[[App, Env], None], ...] = (
    command.register,
    cmd_view.register,
    cmd_person.register,
    checkin.register,
    corrections.register,
    home.register,
    editing.register,
    editing_submit.register,
    events.register,
    directory.register,
    conversation.register,
    cmd_links.register,
    review.register,
    cmd_review.register,
    prompts.register,
    cmd_schedule.register,
    trackers.register,
    cmd_team.register,
    teams_sync.register,
    settings.register,
    setup.register,
)


def register_all(app: App, env: Env) -> None:
    for register in REGISTERS:
        register(app, env)
