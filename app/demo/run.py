"""Running the demo: a fresh SQLite database, then the phases in order.

``run_demo`` builds a :class:`~app.demo.context.DemoContext` and runs each
:class:`~app.demo.context.Phase` of ``phases`` (by default ``app.demo.phases.PHASES``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, select

from app.bootstrap import bootstrap
from app.config import Settings
from app.db import make_engine
from app.demo.context import DEFAULT_DB, DEMO_NOW, DEMO_WORKSPACE, DemoContext, DemoError, Phase
from app.demo.phases import PHASES
from app.demo.tree import Style
from app.models import Workspace


def is_demo_database(path: Path) -> bool:
    """True when the file is empty or holds the demo workspace (safe to recreate)."""
    if path.stat().st_size == 0:
        return True
    engine = make_engine(f"sqlite:///{path}")
    try:
        if not inspect(engine).has_table("workspaces"):
            return False
        with engine.connect() as conn:
            names = set(conn.execute(select(Workspace.name)).scalars())
        return names <= {DEMO_WORKSPACE, "default"} and DEMO_WORKSPACE in names
    except Exception:
        return False
    finally:
        engine.dispose()


def prepare_database(path: Path, *, fresh: bool) -> None:
    if not fresh:
        if not path.exists():
            raise DemoError(f"{path} does not exist yet; run okr demo without --keep first")
        return
    if path.exists():
        if not is_demo_database(path):
            raise DemoError(f"{path} exists and is not a demo database; "
                            "choose another path with --db")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def run_demo(*, db_path: Path = DEFAULT_DB, now: datetime = DEMO_NOW,
             out: Callable[[str], None] = print, style: Style | None = None,
             phases: Sequence[Phase] | None = None, fresh: bool = True) -> DemoContext:
    """Run the demo against ``db_path`` (recreated unless ``fresh`` is False)."""
    db_path = db_path.resolve()
    prepare_database(db_path, fresh=fresh)
    settings = Settings(DATABASE_URL=f"sqlite:///{db_path}")
    container = bootstrap(settings, migrate=True)
    ctx = DemoContext(session_factory=container.session_factory, settings=settings, now=now,
                      out=out, style=style or Style(), db_path=db_path)
    try:
        for phase in phases if phases is not None else PHASES:
            if phase.setup and not fresh:
                continue
            phase.run(ctx)
    finally:
        container.close()
    return ctx
