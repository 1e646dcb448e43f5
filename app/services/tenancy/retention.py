"""What happens to a workspace's data when the app is uninstalled (docs/data-retention.md).

``app_uninstalled`` disables the workspace (:func:`disable`): nothing more is sent to it, its
API tokens are refused, and its data is deleted ``OKR_RETENTION_DAYS`` later by the
scheduler's tick (:func:`purge_due`) or at once by ``okr workspace purge`` (:func:`purge`).
A reinstall within the period re-enables it (:func:`reenable`, called by the installation
store). A purge deletes every row that carries the workspace (every table with a
``workspace_id`` column, children first), its Slack installation rows, then the workspace
row itself; it is recorded in the log, since the workspace's own audit log goes with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Table, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Workspace
from app.models.base import Base
from app.services import audit

log = logging.getLogger(__name__)

INSTALLATION_TABLES = ("slack_installations", "slack_bots")


@dataclass
class Purged:
    workspace_id: int
    name: str
    team_id: str | None
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def disable(*, session: Session, workspace_id: int, now: datetime, retention_days: int,
            reason: str = "app_uninstalled") -> Workspace | None:
    """Stop serving a workspace and schedule the deletion of its data."""
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        return None
    if ws.disabled_at is None:
        ws.disabled_at = now
    ws.purge_after = now + timedelta(days=retention_days)
    audit.record(session=session, workspace_id=ws.id, actor_label="slack",
                 action="workspace.disable", subject_type="workspace",
                 subject_key=ws.slack_team_id or ws.name, now=now,
                 after={"reason": reason, "purge_after": ws.purge_after.isoformat()})
    session.flush()
    return ws


def enable(*, session: Session, ws: Workspace, now: datetime, actor_label: str) -> bool:
    """Serve a disabled workspace again and cancel its purge; False if it was not disabled."""
    if ws.disabled_at is None and ws.purge_after is None:
        return False
    ws.disabled_at = None
    ws.purge_after = None
    audit.record(session=session, workspace_id=ws.id, actor_label=actor_label,
                 action="workspace.enable", subject_type="workspace",
                 subject_key=ws.slack_team_id or ws.name, now=now)
    session.flush()
    return True


def reenable(engine: Engine, *, team_id: str) -> None:
    """A reinstall: the team's workspace, if disabled and not purged yet, is served again."""
    with Session(engine) as session, session.begin():
        ws = session.scalars(select(Workspace).where(Workspace.slack_team_id == team_id)).first()
        if ws is not None and enable(session=session, ws=ws, now=datetime.now(UTC),
                                     actor_label="slack"):
            log.info("workspace.reenabled", extra={"workspace_id": ws.id, "team": team_id})


DISABLED = ("this workspace uninstalled the app: its API tokens no longer work "
            "(reinstalling the app within the retention period restores access)")


def is_disabled(*, session: Session, workspace_id: int) -> bool:
    return session.scalar(select(Workspace.disabled_at).where(
        Workspace.id == workspace_id)) is not None


def scoped_tables() -> list[Table]:
    """Every table carrying a workspace, children before parents (FK-safe delete order)."""
    return [t for t in reversed(Base.metadata.sorted_tables)
            if "workspace_id" in t.c and t.name != Workspace.__tablename__]


def purge(*, session: Session, workspace_id: int, now: datetime,
          only_due: bool = False) -> Purged | None:
    """Delete everything of one workspace; None if another process got there first (or, with
    ``only_due``, if its purge is not due)."""
    claim = update(Workspace).where(Workspace.id == workspace_id)
    if only_due:
        claim = claim.where(Workspace.purge_after.is_not(None), Workspace.purge_after <= now)
    # The first write takes the row (PostgreSQL) or the database (SQLite) for this
    # transaction: a concurrent purge of the same workspace waits, then finds nothing.
    if session.execute(claim.values(name=Workspace.name)).rowcount != 1:  # type: ignore[attr-defined]
        return None
    name, team_id = session.execute(select(Workspace.name, Workspace.slack_team_id).where(
        Workspace.id == workspace_id)).one()
    done = Purged(workspace_id=workspace_id, name=name, team_id=team_id)
    for table in scoped_tables():
        result = session.execute(delete(table).where(table.c.workspace_id == workspace_id))
        done.rows[table.name] = result.rowcount  # type: ignore[attr-defined]
    if team_id:
        for table_name in INSTALLATION_TABLES:
            table = Base.metadata.tables[table_name]
            result = session.execute(delete(table).where(table.c.team_id == team_id))
            done.rows[table_name] = result.rowcount  # type: ignore[attr-defined]
    session.execute(delete(Workspace).where(Workspace.id == workspace_id))
    session.expire_all()
    log.warning("workspace.purged", extra={
        "workspace_id": done.workspace_id, "workspace": done.name, "team": done.team_id,
        "rows": done.total, "at": now.isoformat()})
    return done


def due_ids(*, session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Workspace.id).where(
        Workspace.purge_after.is_not(None), Workspace.purge_after <= now).order_by(Workspace.id)))


def purge_due(factory: sessionmaker[Session], now: datetime) -> list[Purged]:
    """Purge every workspace whose retention period is over, each in its own transaction
    (the scheduler's tick calls this; any number of processes may, each purge happens once)."""
    with unit_of_work(factory) as session:
        ids = due_ids(session=session, now=now)
    done = []
    for workspace_id in ids:
        with unit_of_work(factory) as session:
            purged = purge(session=session, workspace_id=workspace_id, now=now, only_due=True)
        if purged is not None:
            done.append(purged)
    return done
