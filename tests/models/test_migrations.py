"""The single pre-release migration matches the models, and downgrades cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from app.db import make_engine
from app.migrate import alembic_config, upgrade
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
