"""What the ``okr`` command says, in one line, when it cannot start or reach its database.

Bad settings, a bad ``DATABASE_URL``, a missing SQLite folder and an unreachable database
are the operator's to fix, so they are a message and exit status 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic.util.exc import CommandError
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.config import Settings
from app.db import DatabaseUrlError, make_url_safe
from app.migrate import SchemaTooNew

# Errors that mean "fix the configuration or the database", not "a bug".
OPERATOR_ERRORS = (ValidationError, DatabaseUrlError, SchemaTooNew, SQLAlchemyError,
                   CommandError)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _settings(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def _sqlite_folder_missing(url: str) -> Path | None:
    try:
        database = make_url(url).database if url.startswith("sqlite") else None
    except ArgumentError:
        return None
    if not database or database == ":memory:":
        return None
    folder = Path(database).expanduser().parent
    return None if folder.is_dir() else folder


def describe(exc: BaseException, database_url: str | None) -> str:
    """One line for an error of :data:`OPERATOR_ERRORS`."""
    if isinstance(exc, ValidationError):
        return f"bad settings: {_settings(exc)}"
    if isinstance(exc, (DatabaseUrlError, SchemaTooNew)):
        return str(exc)
    if isinstance(exc, CommandError):
        return f"database migration failed: {_first_line(exc)}"
    shown = make_url_safe(database_url) if database_url else "the database"
    if database_url and (folder := _sqlite_folder_missing(database_url)) is not None:
        return f"DATABASE_URL {shown}: the folder {folder} does not exist"
    return f"cannot use the database at {shown}: {_first_line(exc)}"


class OkrGroup(click.Group):
    """The ``okr`` group: an error of :data:`OPERATOR_ERRORS` from any subcommand is one
    line on stderr and exit status 1 (click's usage errors stay as they are)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except OPERATOR_ERRORS as exc:
            raise click.ClickException(describe(exc, _database_url())) from None


def _database_url() -> str | None:
    """DATABASE_URL as configured, for the message (None when the settings are unreadable)."""
    try:
        return Settings().database_url
    except ValidationError:
        return None
