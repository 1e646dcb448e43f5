"""Running alembic from inside the package (``okr db upgrade``), with no alembic.ini on disk.

Any number of processes may upgrade at once (replicas starting together, a migration Job next
to them): :func:`upgrade` runs one at a time per database and the others wait for it, then
find the schema current.

- PostgreSQL: a session-level advisory lock (:data:`ADVISORY_LOCK_KEY`) held on the
  migration's own connection from before it reads the revision until after it commits. It is
  session-level so that it covers everything alembic does on that connection, even a
  migration that commits more than once; the server drops it if the process dies.
- SQLite: an exclusive ``flock`` on a file next to the database (``okr.db.migrate-lock``).
  Every SQLite transaction here already begins ``IMMEDIATE``, but a writer waits for that
  lock only as long as the busy timeout and then fails with "database is locked"; a long
  migration (a table rebuilt in batch mode) would make the waiting processes fail, and the
  very first connection to a new file switches it to WAL before any transaction. The file
  lock waits as long as the migration takes and leaves readers alone.

A database whose revision this code does not know was migrated by a newer release:
:class:`SchemaTooNew`, and nothing is touched.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

HERE = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock's key for schema upgrades ("okr-migr" as a 64-bit number): fixed, so every
# release and every replica of this app takes the same one.
ADVISORY_LOCK_KEY = int.from_bytes(b"okr-migr", "big") & 0x7FFF_FFFF_FFFF_FFFF

log = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


class SchemaTooNew(Exception):
    """The database is at a revision this code has no migration script for."""

    def __init__(self, revision: str, head: str | None) -> None:
        super().__init__(
            f"the database schema is at revision {revision}, which this version of okr-checkin "
            f"does not know (its latest is {head}): it was migrated by a newer release; "
            f"run that release or a later one")
        self.revision = revision


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


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def base_revision() -> str:
    """The first revision (the schema of the first release)."""
    bases = scripts().get_bases()
    if len(bases) != 1:
        raise RuntimeError(f"expected one base revision, found {bases}")
    return bases[0]


def check_known(revision: str | None, directory: ScriptDirectory | None = None) -> None:
    """Raise :class:`SchemaTooNew` when ``revision`` has no migration script here."""
    directory = directory or scripts()
    if revision is not None and revision not in {s.revision for s in directory.walk_revisions()}:
        raise SchemaTooNew(revision, directory.get_current_head())


def upgrade(engine: Engine, revision: str = "head") -> Upgraded:
    """Migrate to ``revision``, one process at a time (see the module docstring)."""
    cfg = alembic_config()
    directory = ScriptDirectory.from_config(cfg)
    with _serialised(engine) as conn, conn.begin():
        before = current_revision(conn)
        check_known(before, directory)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        after = current_revision(conn)
    return Upgraded(before=before, after=after)


@contextmanager
def _serialised(engine: Engine) -> Iterator[Connection]:
    """A connection for the migration, held alone by this process across the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, _advisory_lock(conn):
            yield conn
    elif engine.dialect.name == "sqlite":
        with _file_lock(engine), engine.connect() as conn:
            yield conn
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        with engine.connect() as conn:
            yield conn


@contextmanager
def _advisory_lock(conn: Connection) -> Iterator[None]:
    key = {"key": ADVISORY_LOCK_KEY}
    got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar()
    if not got:
        log.info("db.migration_waiting", extra={"reason": "another process is migrating"})
        conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
    conn.commit()  # the lock is the session's; the migration gets a transaction of its own
    try:
        yield
    finally:
        try:
            if conn.in_transaction():
                conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            conn.commit()
        except Exception:
            # The connection broke: the server has dropped the lock with the session.
            conn.invalidate()


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = _sqlite_file(engine)
    if database is None:  # in memory: one process by definition
        yield
        return
    lock_path = database.with_name(database.name + ".migrate-lock")
    try:
        handle = open(lock_path, "a+b")  # noqa: SIM115 (closed below, after the unlock)
    except OSError:
        # No folder, or one we may not write in: SQLite's own error says which when it
        # connects, and BEGIN IMMEDIATE still orders writers that do get in.
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("db.migration_waiting", extra={"reason": "another process is migrating"})
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
