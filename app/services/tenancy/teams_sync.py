"""Teams whose members follow a Slack channel or user group (``Team.members_from``).

A refresh reads ``conversations.members`` (paginated) or ``usergroups.users.list`` and makes
the team's members exactly the people found there, through the membership service (so every
change is audited). People Slack lists who are not known here yet are skipped and counted:
the directory sync creates them, and the next refresh adds them. Leaving the channel or the
group removes the membership; check-ins and key results stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Team, Workspace
from app.services.tenancy import membership

log = logging.getLogger(__name__)

ACTOR = "slack-sync"
SOURCES = ("channel", "usergroup")


SlackReader = WebClient  # conversations.members and usergroups.users.list are what it reads


@dataclass
class Report:
    teams: int = 0
    added: int = 0
    removed: int = 0
    unknown: int = 0
    failed: list[str] = field(default_factory=list)  # team keys Slack refused to list


def source(team: Team) -> tuple[str, str] | None:
    """``("channel", "C...")`` or ``("usergroup", "S...")`` for a team following Slack."""
    spec = team.members_from or {}
    for kind in SOURCES:
        value = spec.get(kind)
        if isinstance(value, str) and value:
            return kind, value
    return None


def following(*, session: Session, workspace_id: int, kind: str | None = None,
              slack_id: str | None = None) -> list[Team]:
    """Teams of the workspace that follow Slack (that channel or group, when given)."""
    teams = session.scalars(select(Team).where(
        Team.workspace_id == workspace_id, Team.members_from.isnot(None)).order_by(Team.id))
    out = []
    for team in teams:
        src = source(team)
        if src is None or (kind is not None and src != (kind, slack_id)):
            continue
        out.append(team)
    return out


def read_members(client: SlackReader, kind: str, slack_id: str) -> list[str]:
    """Every user id of a channel (all pages) or user group."""
    if kind == "usergroup":
        resp = client.usergroups_users_list(usergroup=slack_id)
        return [str(u) for u in resp.get("users") or []]
    users: list[str] = []
    cursor = None
    while True:
        resp = client.conversations_members(channel=slack_id, limit=200,
                                            **({"cursor": cursor} if cursor else {}))
        users += [str(u) for u in resp.get("members") or []]
        cursor = (resp.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return users


def refresh(session: Session, client: SlackReader, workspace_id: int, team_id: int | None = None,
            *, now: datetime) -> Report:
    """Make each following team's members match Slack (one team when ``team_id`` is given).
    A team whose channel or group Slack refuses to list (not in channel, missing scope...)
    keeps its members and is reported in ``failed``."""
    report = Report()
    for team in following(session=session, workspace_id=workspace_id):
        if team_id is not None and team.id != team_id:
            continue
        kind, slack_id = source(team) or ("", "")
        try:
            users = read_members(client, kind, slack_id)
        except SlackApiError as exc:
            log.warning("teams_sync.read_failed", extra={"team": team.key, "kind": kind,
                                                        "error": exc.response.get("error")})
            report.failed.append(team.key)
            continue
        change = membership.replace(session=session, workspace_id=workspace_id, team=team,
                                    slack_ids=users, now=now, actor_label=ACTOR)
        report.teams += 1
        report.added += len(change.added)
        report.removed += len(change.removed)
        report.unknown += len(change.unknown)
    return report


def joined(*, session: Session, workspace_id: int, kind: str, slack_id: str,
           users: Iterable[str], now: datetime) -> int:
    """People joined a channel or group: add them to each team following it."""
    ids = list(users)
    return sum(len(membership.add(session=session, workspace_id=workspace_id, team=team,
                                  slack_ids=ids, now=now, actor_label=ACTOR).added)
               for team in following(session=session, workspace_id=workspace_id, kind=kind,
                                     slack_id=slack_id))


def left(*, session: Session, workspace_id: int, kind: str, slack_id: str,
         users: Iterable[str], now: datetime) -> int:
    """People left a channel or group: remove them from each team following it."""
    ids = list(users)
    return sum(len(membership.remove(session=session, workspace_id=workspace_id, team=team,
                                     slack_ids=ids, now=now, actor_label=ACTOR).removed)
               for team in following(session=session, workspace_id=workspace_id, kind=kind,
                                     slack_id=slack_id))


def group_changed(*, session: Session, workspace_id: int, usergroup: str,
                  added: Iterable[str], removed: Iterable[str], now: datetime) -> int:
    """A ``subteam_members_changed`` event: both halves, for the teams following the group."""
    return (joined(session=session, workspace_id=workspace_id, kind="usergroup",
                   slack_id=usergroup, users=added, now=now)
            + left(session=session, workspace_id=workspace_id, kind="usergroup",
                   slack_id=usergroup, users=removed, now=now))


def refresh_all(session_factory: sessionmaker[Session],
                client_for: Callable[[int], SlackReader | None], *, now: datetime,
                workspace_ids: Iterable[int] | None = None) -> dict[int, Report]:
    """The daily refresh: every enabled workspace with a team following Slack, one
    transaction each (a workspace without a Slack token is left out)."""
    with unit_of_work(session_factory) as s:
        stmt = select(Team.workspace_id).join(Workspace, Workspace.id == Team.workspace_id) \
            .where(Team.members_from.isnot(None), Workspace.disabled_at.is_(None)).distinct()
        ids = sorted(set(s.scalars(stmt)))
    if workspace_ids is not None:
        wanted = set(workspace_ids)
        ids = [i for i in ids if i in wanted]
    reports: dict[int, Report] = {}
    for ws_id in ids:
        client = client_for(ws_id)
        if client is None:
            continue
        with unit_of_work(session_factory) as s:
            reports[ws_id] = refresh(s, client, ws_id, now=now)
    return reports
