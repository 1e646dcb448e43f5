"""Subcommands of ``okr``. Each module listed here exposes ``COMMANDS``: its click commands.

What they share (``Obj``, ``--workspace``, ``--at``, one transaction in a workspace) is in
``app.commands.context``; ``app.cli`` adds ``REGISTRY()`` to the ``okr`` group.
"""

from __future__ import annotations

import click

from app.commands import (
    admin,
    checkin,
    cycles,
    data,
    demo,
    integrations,
    people,
    schedule,
    serve,
    teams,
    trackers,
)

# One entry per module in app/commands/; add yours here.
MODULES = (serve, cycles, schedule, integrations, trackers, demo, data, checkin, admin,
           people, teams)


def REGISTRY() -> list[click.Command]:
    return [command for module in MODULES for command in module.COMMANDS]
