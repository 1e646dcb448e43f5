"""The ``okr`` command. Subcommands live in ``app/commands/``; this module wires them up."""

from __future__ import annotations

import sys

import click

from app.bootstrap import configure_logging
from app.commands import REGISTRY
from app.commands.context import Obj
from app.commands.failures import OkrGroup
from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade


@click.group(cls=OkrGroup)
@click.version_option(package_name="okr-checkin", prog_name="okr")
@click.option(
    "--log-level", default=None, help="DEBUG, INFO, WARNING (default from OKR_LOG_LEVEL)."
)
@click.pass_context
def main(ctx: click.Context, log_level: str | None) -> None:
    """Slack-first OKR check-ins: import, score, remind, report."""
    settings = Settings()
    configure_logging(log_level or settings.log_level, settings.log_format)
    ctx.ensure_object(Obj)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        done = upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"{done.describe()}: {_safe_url(settings.database_url)}")


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


for command in REGISTRY():
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
