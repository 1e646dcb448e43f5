"""The person making a request, as a plain value, and the lookups that find them.

An :class:`Actor` is detached from any session (safe to cache and to pass to threads); it
satisfies ``access.Principal``. Services that need the person's row load it again with
:func:`person_row` inside the caller's transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Person, Workspace
from app.services.errors import OkrError
from app.services.tenancy import people

NOT_FOUND = "I could not find you in this workspace"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person making a request, detached from any session (safe to pass to threads)."""

    id: int
    workspace_id: int
    slack_id: str
    name: str
    tz: str
    is_admin: bool
    active: bool
    away_until: date | None

    @classmethod
    def of(cls, person: Person, settings: Settings) -> Actor:
        return cls(
            id=person.id, workspace_id=person.workspace_id, slack_id=person.slack_id,
            name=person.name, tz=person.tz or "UTC",
            is_admin=bool(person.is_admin) or person.slack_id in settings.admins,
            active=person.active, away_until=person.away_until,
        )


class ActorCache:
    """Recently seen people, so most requests need no query to know who is asking.

    Entries live ``ttl`` seconds: changes made by other processes (an import making someone an
    admin, a ``user_change`` handled by another worker) show within that time; changes made
    here call :meth:`forget`.
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[int, str], tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, workspace_id: int, slack_id: str) -> Actor | None:
        with self._lock:
            found = self._entries.get((workspace_id, slack_id))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, workspace_id: int, actor: Actor) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[(workspace_id, actor.slack_id)] = (time.monotonic() + self.ttl, actor)

    def forget(self, workspace_id: int, slack_id: str) -> None:
        with self._lock:
            self._entries.pop((workspace_id, slack_id), None)


def find(*, session: Session, workspace_id: int, slack_id: str,
         settings: Settings) -> Actor | None:
    """The person with this Slack id, if we know them."""
    person = people.by_slack_id(session=session, workspace_id=workspace_id, slack_id=slack_id)
    return None if person is None else Actor.of(person, settings)


def from_slack_user(*, session: Session, workspace_id: int, user: Mapping[str, Any],
                    now: datetime, settings: Settings) -> Actor:
    """Create or refresh the person from a Slack user object."""
    person = people.upsert_from_slack(session=session, workspace_id=workspace_id, user=user,
                                      now=now)
    return Actor.of(person, settings)


def person_row(*, session: Session, workspace_id: int, person_id: int) -> Person:
    """The acting person's row in this transaction; OkrError when they are gone."""
    person = session.get(Person, person_id)
    if person is None or person.workspace_id != workspace_id:
        raise OkrError(NOT_FOUND)
    return person


def workspace_and_person(*, session: Session, workspace_id: int,
                         person_id: int) -> tuple[Workspace, Person]:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise OkrError(NOT_FOUND)
    return ws, person_row(session=session, workspace_id=workspace_id, person_id=person_id)
