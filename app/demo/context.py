"""What the phases of ``okr demo`` share: the :class:`DemoContext` and the :class:`Phase`.

Phases share the context: the database, the simulated clock (``now``, fixed so every run
prints the same), the output and anything earlier phases left in ``ctx.results``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import unit_of_work
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
