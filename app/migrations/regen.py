"""Regenerate the single pre-release migration from the models.

Until the first release the schema is one migration: ``python -m app.migrations.regen``
deletes it and autogenerates it again against an empty SQLite database. Read what it wrote.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from app.migrate import HERE, alembic_config


def main() -> None:
    for old in (HERE / "versions").glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()
