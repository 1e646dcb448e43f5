"""The single pre-release migration matches the models, and downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, inspect

from app.cli import main
from app.db import make_engine
from app.migrate import Upgraded, alembic_config, upgrade
from app.models import Base


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgraded_schema_matches_the_models(db_engine: Engine) -> None:
    """Runs on SQLite and PostgreSQL: `python -m app.migrations.regen` after model changes."""
    assert _differences(db_engine) == []


def test_downgrade_to_base_and_back_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        upgrade(engine)
        assert "key_results" in inspect(engine).get_table_names()
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_db_upgrade_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    first = CliRunner().invoke(main, ["--log-level", "WARNING", "db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"created the database schema (revision {head})" in first.stdout
    again = CliRunner().invoke(main, ["--log-level", "WARNING", "db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert f"the database schema is already current (revision {head})" in again.stdout
    assert "up to date" not in first.stdout + again.stdout


def test_an_upgrade_from_an_older_revision_says_from_what_to_what(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        assert upgrade(engine).before is None
        assert upgrade(engine) == Upgraded(before="0001", after="0001")
    finally:
        engine.dispose()
    # Only one migration exists before the first release: the wording of a real step.
    assert Upgraded(before="0001", after="0002").describe() == \
        "migrated the database schema from revision 0001 to 0002"
