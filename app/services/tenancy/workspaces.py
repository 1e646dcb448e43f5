"""Workspaces: the tenant every row belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services import audit

DEFAULT_NAME = "default"


def default_workspace(*, session: Session, now: datetime) -> Workspace:
    """The CLI's workspace: the only one if there is one, else a new one named ``default``.

    With several workspaces the CLI needs ``--workspace``; see ``by_ref``.
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


def for_slack_team(
    *, session: Session, team_id: str, now: datetime, name: str | None = None
) -> Workspace:
    """The workspace of a Slack team, created on first use.

    A lone workspace not yet tied to any Slack team (the one ``okr import`` filled before the
    app was installed) is claimed by the first team that talks to us.
    """
    ws = session.scalars(select(Workspace).where(Workspace.slack_team_id == team_id)).first()
    if ws is not None:
        return ws
    total = session.scalar(select(func.count()).select_from(Workspace)) or 0
    unbound = session.scalars(select(Workspace).where(Workspace.slack_team_id.is_(None))).all()
    if total == 1 and len(unbound) == 1:
        unbound[0].slack_team_id = team_id
        session.flush()
        return unbound[0]
    ws = Workspace(name=name or team_id, slack_team_id=team_id, created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    return ws


def record_uninstall(*, session: Session, workspace_id: int, reason: str, team_id: str,
                     now: datetime) -> None:
    """Audit the app losing its access to a workspace (``tokens_revoked``/``app_uninstalled``)."""
    ws = session.get(Workspace, workspace_id)
    audit.record(session=session, workspace_id=workspace_id, actor_label="slack",
                 action=f"slack.{reason}", subject_type="workspace",
                 subject_key=(ws.slack_team_id if ws else None) or team_id, now=now,
                 after={"event": reason})
