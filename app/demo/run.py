"""Running the demo: a fresh SQLite database, then the phases in order.

``run_demo`` builds a :class:`DemoContext` and runs each :class:`Phase` of ``phases`` (by
default ``app.demo.phases.PHASES``). Phases share the context: the database, the simulated
clock (``now``, fixed so every run prints the same), the output and anything earlier phases
left in ``ctx.results``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import bootstrap
from app.config import Settings
from app.db import make_engine, unit_of_work
from app.demo.tree import Style
from app.models import Cycle, Workspace
from app.services.errors import OkrError
from app.services.okrs import cycles

DEMO_WORKSPACE = "Acme Cloud"
# A Tuesday at the end of FY27-Q1: every check-in of the quarter's last week is in.
DEMO_NOW = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)
DEFAULT_DB = Path("okr-demo") / "demo.db"


class DemoError(OkrError):
    pass


@dataclass
class DemoContext:
    session_factory: sessionmaker[Session]
    settings: Settings
    now: datetime
    out: Callable[[str], None]
    style: Style
    db_path: Path
    # Anything a phase wants later phases to see (e.g. "checkins": 312).
    results: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction."""
        with unit_of_work(self.session_factory) as session:
            yield session

    def workspace(self, session: Session) -> Workspace:
        ws = session.scalars(select(Workspace).where(Workspace.name == DEMO_WORKSPACE)).first()
        if ws is None:
            raise DemoError(f"{self.db_path} holds no demo workspace; run okr demo without --keep")
        return ws

    def cycle(self, session: Session) -> Cycle:
        ws = self.workspace(session)
        found = cycles.current(session=session, workspace_id=ws.id, today=self.today(ws))
        if found is None:
            raise DemoError("the demo workspace has no cycle")
        return found

    def today(self, ws: Workspace) -> date:
        return cycles.org_today(ws, self.now)


@dataclass(frozen=True)
class Phase:
    """A step of the demo. ``setup`` phases write the sample data and only run on a fresh
    database; the others read and print, and also run with ``--keep``."""

    name: str
    run: Callable[[DemoContext], None]
    setup: bool = False


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
    from app.demo.phases import PHASES  # the phases import this module's context

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
