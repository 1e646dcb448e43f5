"""Running alembic from inside the package (``okr db upgrade``), with no alembic.ini on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine

HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class Upgraded:
    """The schema revision before and after an upgrade (``None``: no schema yet)."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None:
            return f"created the database schema (revision {self.after})"
        if self.before != self.after:
            return f"migrated the database schema from revision {self.before} to {self.after}"
        return f"the database schema is already current (revision {self.after})"


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> Upgraded:
    cfg = alembic_config()
    with engine.begin() as conn:
        before = current_revision(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        after = current_revision(conn)
    return Upgraded(before=before, after=after)
