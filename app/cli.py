"""The ``okr`` command. Subcommands live in ``app/commands/``; this module wires them up."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from app.bootstrap import Container, bootstrap, configure_logging
from app.config import Settings


class Obj:
    """Lazily built per-invocation state shared by subcommands."""

    def __init__(self) -> None:
        self._container: Container | None = None

    @property
    def container(self) -> Container:
        if self._container is None:
            self._container = bootstrap(Settings(), migrate=True)
        return self._container


pass_obj = click.make_pass_decorator(Obj, ensure=True)


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant; naive values are refused so nobody guesses a time zone."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date-time") from exc
    if at.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (add Z or +01:00)")
    return at


@click.group()
@click.version_option(package_name="okr-checkin")
@click.option(
    "--log-level", default=None, help="DEBUG, INFO, WARNING (default from OKR_LOG_LEVEL)."
)
@click.pass_context
def main(ctx: click.Context, log_level: str | None) -> None:
    """Slack-first OKR check-ins: import, score, remind, report."""
    configure_logging(log_level or Settings().log_level)
    ctx.ensure_object(Obj)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    settings = Settings()
    container = bootstrap(settings, migrate=True)
    container.close()
    click.echo(f"database is up to date ({_safe_url(settings.database_url)})")


def _safe_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _register() -> None:
    from app.commands import REGISTRY

    for command in REGISTRY():
        main.add_command(command)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
