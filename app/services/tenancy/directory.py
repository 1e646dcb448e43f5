"""The directory: Slack's ``users.list`` read into people, on install, daily and on demand.

Every page is read first (``cursor``/``limit``; Tier 2, about 20 calls a minute: a 429 is
retried after its Retry-After), then written in one transaction, so a failed read changes
nothing. Slack owns name, display name, email, time zone and deactivation; a person's own
settings (their chosen time zone, away dates, check-in schedule, admin flag) are never
touched. Bots and Slackbot are left out; people missing from Slack are left as they are.

The daily run is claimed per workspace with a conditional UPDATE of
``workspaces.directory_synced_at``: any number of scheduler processes may tick at once and
one of them syncs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Person, Workspace
from app.services import audit
from app.services.tenancy import people
from app.services.tenancy.people import SlackUser

log = logging.getLogger(__name__)

PAGE_SIZE = 200  # Slack's advice for users.list
MAX_PAGES = 1000  # 200,000 accounts: a cursor that never ends stops here
EVERY = timedelta(days=1)
RETRY_FAILED_AFTER = timedelta(hours=1)  # a failed daily sync is tried again an hour later
PER_TICK = 5  # workspaces synced by one scheduler pass at most


class UsersLister(Protocol):
    def users_list(self, **kwargs: Any) -> Any: ...


@dataclass
class SyncCounts:
    added: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    skipped_bots: int = 0
    skipped_deactivated: int = 0  # deactivated in Slack before we ever saw them
    not_in_slack: int = 0  # people we know whom users.list did not return (left alone)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}

    def summary(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.deactivated} deactivated, "
                f"{self.reactivated} reactivated, {self.unchanged} unchanged; skipped "
                f"{self.skipped_bots} bots and {self.skipped_deactivated} deactivated accounts; "
                f"{self.not_in_slack} not in Slack (left as they are)")


def reader(client: UsersLister) -> UsersLister:
    """A client for reading that waits out 429s (Retry-After) and retries 5xx and dropped
    connections: reads are safe to repeat, unlike the scheduler's posts."""
    if not isinstance(client, WebClient):
        return client
    return WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                     RateLimitErrorRetryHandler(max_retry_count=5),
                                     ServerErrorRetryHandler(max_retry_count=2)])


def fetch_users(client: UsersLister) -> Iterator[dict[str, Any]]:
    """Every user object of ``users.list``, page by page."""
    cursor = ""
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = client.users_list(limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {}))
        yield from page.get("members") or []
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor or cursor in seen:
            return
        seen.add(cursor)
    log.warning("directory.too_many_pages", extra={"pages": MAX_PAGES})


def apply(*, session: Session, workspace_id: int, users: list[dict[str, Any]], now: datetime,
          actor_label: str = "slack") -> SyncCounts:
    """Write Slack's users into people in one pass; audited as one entry."""
    known = {p.slack_id: p for p in session.scalars(
        select(Person).where(Person.workspace_id == workspace_id))}
    counts = SyncCounts()
    listed: set[str] = set()
    for user in users:
        if not user.get("id"):
            continue
        su = SlackUser.of(user)
        listed.add(su.slack_id)
        if su.is_bot:
            counts.skipped_bots += 1
            continue
        person = known.get(su.slack_id)
        if person is None:
            if su.deleted:
                counts.skipped_deactivated += 1
                continue
            known[su.slack_id] = people.add(session=session, workspace_id=workspace_id,
                                            user=su, now=now)
            counts.added += 1
            continue
        outcome = people.refresh(session=session, person=person, user=su, now=now)
        if outcome is None:
            counts.unchanged += 1
        else:
            setattr(counts, outcome, getattr(counts, outcome) + 1)
    counts.not_in_slack = sum(1 for sid, p in known.items()
                              if sid not in listed and p.active and not sid.startswith("erased-"))
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="people.sync", subject_type="workspace", subject_key=str(workspace_id),
                 now=now, after=counts.as_dict())
    return counts


def sync(*, factory: sessionmaker[Session], workspace_id: int, client: UsersLister,
         now: datetime, actor_label: str = "slack") -> SyncCounts:
    """Read the whole directory (outside any transaction), then write it in one."""
    users = list(fetch_users(reader(client)))
    with unit_of_work(factory) as session:
        counts = apply(session=session, workspace_id=workspace_id, users=users, now=now,
                       actor_label=actor_label)
        session.execute(update(Workspace).where(Workspace.id == workspace_id)
                        .values(directory_synced_at=now))
    log.info("directory.synced", extra={"workspace_id": workspace_id, **counts.as_dict()})
    return counts


def claim(*, factory: sessionmaker[Session], workspace_id: int, now: datetime) -> bool:
    """Take today's sync of this workspace: True for exactly one caller per day."""
    with unit_of_work(factory) as session:
        done = session.execute(
            update(Workspace)
            .where(Workspace.id == workspace_id, Workspace.disabled_at.is_(None),
                   or_(Workspace.directory_synced_at.is_(None),
                       Workspace.directory_synced_at <= now - EVERY))
            .values(directory_synced_at=now)
            .execution_options(synchronize_session=False))
    return bool(getattr(done, "rowcount", 0))


def due_workspaces(*, factory: sessionmaker[Session], now: datetime) -> list[int]:
    with unit_of_work(factory) as session:
        return list(session.scalars(
            select(Workspace.id).where(
                # Only a workspace bound to its Slack team: a token never fills another's.
                Workspace.disabled_at.is_(None), Workspace.slack_team_id.is_not(None),
                or_(Workspace.directory_synced_at.is_(None),
                    Workspace.directory_synced_at <= now - EVERY))
            .order_by(Workspace.directory_synced_at.is_not(None), Workspace.id)
            .limit(PER_TICK)))


def sync_due(factory: sessionmaker[Session], now: datetime,
             client_for: Callable[[int], UsersLister | None]) -> dict[int, SyncCounts]:
    """The scheduler's daily run: each workspace due (never synced, or a day ago) is claimed
    by one process and synced; a workspace without a token waits for one."""
    done: dict[int, SyncCounts] = {}
    for ws_id in due_workspaces(factory=factory, now=now):
        client = client_for(ws_id)
        if client is None or not claim(factory=factory, workspace_id=ws_id, now=now):
            continue
        try:
            done[ws_id] = sync(factory=factory, workspace_id=ws_id, client=client, now=now)
        except (SlackApiError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            log.warning("directory.sync_failed", extra={"workspace_id": ws_id,
                                                        "error": error or type(exc).__name__})
            _retry_later(factory, ws_id, now)
    return done


def _retry_later(factory: sessionmaker[Session], workspace_id: int, now: datetime) -> None:
    with unit_of_work(factory) as session:
        session.execute(update(Workspace).where(Workspace.id == workspace_id,
                                                Workspace.directory_synced_at == now)
                        .values(directory_synced_at=now - EVERY + RETRY_FAILED_AFTER))
