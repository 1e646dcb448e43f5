"""Subcommands of ``okr``. Each module listed here exposes ``COMMANDS``: its click commands."""

from __future__ import annotations

import importlib

import click

# One entry per module in app/commands/; add yours here.
MODULES: tuple[str, ...] = (
    "serve", "cycles", "schedule", "integrations", "demo", "data", "checkin",
)


def REGISTRY() -> list[click.Command]:
    commands: list[click.Command] = []
    for name in MODULES:
        module = importlib.import_module(f"app.commands.{name}")
        commands.extend(module.COMMANDS)
    return commands
