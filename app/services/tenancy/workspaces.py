"""Workspaces: the tenant every row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services import audit

DEFAULT_NAME = "default"


def default_workspace(*, session: Session, now: datetime) -> Workspace:
    """The CLI's workspace: the only one if there is one, else a new one named ``default``.

    With several workspaces the CLI needs ``--workspace``; see ``by_ref``. A new workspace is
    bound to no Slack team: see app/services/tenancy/binding.py for what binds it.
    """
    rows = session.scalars(select(Workspace).order_by(Workspace.id).limit(2)).all()
    if len(rows) == 1:
        return rows[0]
    if rows:
        named = session.scalars(select(Workspace).where(Workspace.name == DEFAULT_NAME)).first()
        if named is not None:
            return named
        return rows[0]
    ws = Workspace(name=DEFAULT_NAME, created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    return ws


def by_ref(*, session: Session, ref: str) -> Workspace | None:
    """Find a workspace by Slack team id or by name."""
    return session.scalars(
        select(Workspace).where((Workspace.slack_team_id == ref) | (Workspace.name == ref))
    ).first()


def record_uninstall(*, session: Session, workspace_id: int, reason: str, team_id: str,
                     now: datetime) -> None:
    """Audit the app losing its access to a workspace (``tokens_revoked``/``app_uninstalled``)."""
    ws = session.get(Workspace, workspace_id)
    audit.record(session=session, workspace_id=workspace_id, actor_label="slack",
                 action=f"slack.{reason}", subject_type="workspace",
                 subject_key=(ws.slack_team_id if ws else None) or team_id, now=now,
                 after={"event": reason})
