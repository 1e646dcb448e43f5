"""Slack listeners, one module per surface.

``register_all(app, env)`` imports every module named in ``MODULES`` (add yours there) and
calls its ``register(app, env)`` (or ``register(app)``) when it has one. Modules that only add
``/okr`` subcommands need no ``register``: importing them fills the router's registry.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from handlers.context import Env

# The order only matters for help: subcommands list by their own ``order``, then name.
MODULES: tuple[str, ...] = (
    "command",
    "cmd_view",
    "cmd_person",
    "checkin",
    "home",
    "editing",
    "editing_submit",
    "events",
    "cmd_links",
    "review",
    "cmd_review",
    "prompts",
    "cmd_schedule",
)


def register_all(app: App, env: Env) -> None:
    for name in MODULES:
        module = importlib.import_module(f"handlers.{name}")
        register = getattr(module, "register", None)
        if register is None:
            continue
        if len(inspect.signature(register).parameters) >= 2:
            register(app, env)
        else:
            register(app)
