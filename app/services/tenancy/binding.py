"""Which workspace a Slack team's requests belong to, and what binds a workspace to a team.

A workspace is bound to one Slack team (``workspaces.slack_team_id``) explicitly, never by
whichever team happens to talk first:

- **Single-workspace mode** (``SLACK_BOT_TOKEN``): the bot token's own team (Slack's
  ``auth.test``) gets the workspace bound to it, else the lone unbound workspace (the one
  ``okr import`` filled before the app was installed), else a new one. Other teams get nothing.
- **OAuth mode**: a successful install binds the installing team: the workspace an import
  named for it (``settings.slack_team``), else a new one. An unbound workspace is never
  handed to an installing team.
- **Imports**: ``settings.slack_team`` binds the imported workspace to that team.

Requests are only ever resolved to a workspace already bound (:func:`bound`); nothing here
keys a workspace by an Enterprise Grid organisation id.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services import audit

log = logging.getLogger(__name__)

# What a person of a team we do not serve is told (slash commands; other requests get an
# empty 200 so that Slack does not retry them).
NOT_SET_UP = ("This app is not set up for this workspace. Ask the person who runs it to "
              "install it here.")
ORG_INSTALL_REFUSED = ("This app is installed per workspace: Enterprise Grid organisation-wide "
                       "installs are not supported. Install it to each workspace instead.")


def bound(*, session: Session, team_id: str) -> Workspace | None:
    """The workspace bound to this Slack team, if any."""
    return session.scalars(select(Workspace).where(Workspace.slack_team_id == team_id)).first()


def for_bot_team(*, session: Session, team_id: str, now: datetime) -> Workspace:
    """Single-workspace mode: the workspace of the bot token's own team, bound on first use.

    Only call this with the team ``auth.test`` reported for the configured bot token.
    """
    ws = bound(session=session, team_id=team_id)
    if ws is not None:
        return ws
    rows = session.scalars(select(Workspace).order_by(Workspace.id).limit(2)).all()
    if len(rows) == 1 and rows[0].slack_team_id is None:
        return _bind(session, rows[0], team_id, now, how="bot_token")
    return _create(session, team_id, None, now, how="bot_token")


def for_installed_team(*, session: Session, team_id: str, name: str | None,
                       now: datetime) -> Workspace:
    """OAuth mode: the workspace of a team that has just installed the app.

    The workspace already bound to the team (an earlier install, or an import naming the
    team), else a new one. Never an unbound workspace: that data belongs to nobody yet.
    """
    ws = bound(session=session, team_id=team_id)
    if ws is not None:
        return ws
    return _create(session, team_id, name, now, how="install")


def import_problem(*, session: Session, workspace: Workspace, team_id: str) -> str | None:
    """Why an import into ``workspace`` may not bind it to ``team_id`` (None: it may)."""
    if workspace.slack_team_id not in (None, team_id):
        return (f"workspace {workspace.name!r} belongs to Slack team {workspace.slack_team_id}; "
                f"a workspace's team cannot be changed by an import")
    other = bound(session=session, team_id=team_id)
    if other is not None and other.id != workspace.id:
        return (f"Slack team {team_id} already has workspace {other.name!r} "
                f"(import into it with --workspace {team_id})")
    return None


def import_target(*, session: Session, team_id: str | None, default: Workspace) -> Workspace:
    """The workspace an import without ``--workspace`` goes to.

    The workspace bound to the team the file names, else ``default``.
    """
    if team_id:
        ws = bound(session=session, team_id=team_id)
        if ws is not None:
            return ws
    return default


def _bind(session: Session, ws: Workspace, team_id: str, now: datetime, *, how: str) -> Workspace:
    ws.slack_team_id = team_id
    session.flush()
    _audit(session, ws, team_id, now, how)
    return ws


def _create(session: Session, team_id: str, name: str | None, now: datetime, *,
            how: str) -> Workspace:
    try:
        with session.begin_nested():
            ws = Workspace(name=name or team_id, slack_team_id=team_id, created_at=now,
                           holiday_dates=[])
            session.add(ws)
            session.flush()
    except IntegrityError:
        # A concurrent request of the same team created it a moment ago.
        found = bound(session=session, team_id=team_id)
        if found is None:
            raise
        return found
    _audit(session, ws, team_id, now, how)
    return ws


def _audit(session: Session, ws: Workspace, team_id: str, now: datetime, how: str) -> None:
    audit.record(session=session, workspace_id=ws.id, actor_label="slack",
                 action="workspace.bound", subject_type="workspace", subject_key=team_id,
                 now=now, after={"slack_team": team_id, "by": how})
    log.info("slack.workspace_bound", extra={"team": team_id, "workspace_id": ws.id, "by": how})
