"""The backup and upgrade drills of docs/operations.md, as tests: a PostgreSQL dump restored
into a fresh database exports the same; a database created at the first revision, with data,
upgrades to the latest with its data intact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from app.bootstrap import bootstrap
from app.cli import main
from app.commands.context import Obj
from app.config import Settings
from app.db import make_engine
from app.migrate import base_revision, current_revision, scripts, upgrade
from tests.dbutil import fresh_database, fresh_postgres_database
from tests.ops import sample
from tests.ops.procs import okr

pytestmark = pytest.mark.slow


def _runner(url: str, cwd: Path) -> sample.Run:
    """``okr`` as a process against ``url``."""
    def run(*args: str) -> str:
        done = okr(*args, database_url=url, cwd=cwd)
        assert done.returncode == 0, f"okr {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout
    return run


def _libpq(url: str) -> list[str]:
    """pg_dump / pg_restore connection options for a SQLAlchemy URL."""
    u = make_url(url)
    return ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432),
            "--username", u.username or "postgres"]


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        pytest.skip(f"{name} is not installed")
    return tool


def test_a_dump_restored_into_a_fresh_database_exports_the_same(tmp_path: Path) -> None:
    dump = tmp_path / "okr.dump"
    with fresh_postgres_database() as source:
        run = _runner(source, tmp_path)
        run("db", "upgrade")
        sample.load(run, tmp_path)
        before = sample.exported(run)
        subprocess.run([_pg_tool("pg_dump"), *_libpq(source), "--format=custom",
                        "--file", str(dump), make_url(source).database or ""], check=True)
    assert sample.checkin_count(before) == len(sample.CHECKINS)
    with fresh_postgres_database() as target:
        subprocess.run([_pg_tool("pg_restore"), *_libpq(target), "--no-owner",
                        "--exit-on-error", "--dbname", make_url(target).database or "",
                        str(dump)], check=True)
        run = _runner(target, tmp_path)
        assert "already current" in run("db", "upgrade")
        assert sample.exported(run) == before


def test_a_sqlite_online_backup_exports_the_same(tmp_path: Path) -> None:
    """The online backup of operations.md (SQLite's backup API) while the file is in WAL mode."""
    url, copy = f"sqlite:///{tmp_path / 'okr.db'}", tmp_path / "backup.db"
    run = _runner(url, tmp_path)
    sample.load(run, tmp_path)
    before = sample.exported(run)
    subprocess.run([sys.executable, "-c", "import sqlite3; sqlite3.connect('okr.db')"
                    ".backup(sqlite3.connect('backup.db'))"], cwd=tmp_path, check=True)
    restored = _runner(f"sqlite:///{copy}", tmp_path)
    assert "already current" in restored("db", "upgrade")
    assert sample.exported(restored) == before


def _in_process(url: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> sample.Run:
    """The real ``okr`` command in this process, on a database left at the revision it is at
    (the command's own start would migrate it)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("DATABASE_URL", url)
    obj = Obj()
    obj._container = bootstrap(Settings(), migrate=False)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--log-level", "WARNING", *args], obj=obj)
        assert result.exit_code == 0, f"okr {' '.join(args)}: {result.output}"
        return result.stdout
    run.container = obj._container  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_database_of_the_first_revision_upgrades_with_its_data(
        kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, head = base_revision(), scripts().get_current_head()
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            assert upgrade(engine, first).after == first
        finally:
            engine.dispose()
        old = _in_process(url, tmp_path, monkeypatch)
        try:
            sample.load(old, tmp_path)
            before: dict[str, Any] = sample.exported(old)
            with old.container.engine.connect() as conn:  # type: ignore[attr-defined]
                assert current_revision(conn) == first  # loaded at the first revision
        finally:
            old.container.close()  # type: ignore[attr-defined]
        run = _runner(url, tmp_path)
        said = run("db", "upgrade")
        if first == head:
            assert f"already current (revision {head})" in said
        else:
            assert f"migrated the database schema from revision {first} to {head}" in said
        assert sample.checkin_count(before) == len(sample.CHECKINS)
        assert sample.exported(run) == before
