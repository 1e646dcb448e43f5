"""People: matched to Slack users by id; time zones, absence and deactivation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Person
from app.services import audit
from app.services.errors import InvalidValue


def valid_tz(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def by_slack_id(*, session: Session, workspace_id: int, slack_id: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.workspace_id == workspace_id, Person.slack_id == slack_id)
    ).first()


def upsert_from_slack(
    *, session: Session, workspace_id: int, user: Mapping[str, Any], now: datetime
) -> Person:
    """Create or refresh a person from a Slack ``users.info`` user object (or ``user_change``)."""
    slack_id = str(user["id"])
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or slack_id
    )
    tz = user.get("tz") if isinstance(user.get("tz"), str) and valid_tz(user["tz"]) else None
    deleted = bool(user.get("deleted"))
    person = by_slack_id(session=session, workspace_id=workspace_id, slack_id=slack_id)
    if person is None:
        person = Person(
            workspace_id=workspace_id, slack_id=slack_id, name=str(name)[:200], tz=tz or "UTC",
            email=profile.get("email"), active=not deleted,
            deactivated_at=now if deleted else None, created_at=now,
        )
        session.add(person)
        session.flush()
        return person
    if tz and tz != person.tz:
        person.tz = tz
    if name and str(name)[:200] != person.name:
        person.name = str(name)[:200]
    if deleted and person.active:
        deactivate(session=session, person=person, now=now, reason="deleted in Slack")
    elif not deleted and not person.active:
        person.active = True
        person.deactivated_at = None
    return person


def deactivate(*, session: Session, person: Person, now: datetime, reason: str) -> None:
    if not person.active:
        return
    person.active = False
    person.deactivated_at = now
    audit.record(
        session=session, workspace_id=person.workspace_id, actor_label="system",
        action="person.deactivate", subject_type="person", subject_key=person.slack_id,
        now=now, before={"active": True}, after={"active": False, "reason": reason},
    )


def set_away(
    *, session: Session, person: Person, until: date | None, today: date, now: datetime
) -> None:
    """Mark someone away until a date (inclusive); ``None`` means back."""
    if until is not None and until < today:
        raise InvalidValue(f"{until.isoformat()} is in the past", field="until")
    before = person.away_until.isoformat() if person.away_until else None
    person.away_until = until
    audit.record(
        session=session, workspace_id=person.workspace_id, actor_id=person.id,
        actor_label=f"slack:{person.slack_id}", action="person.away" if until else "person.back",
        subject_type="person", subject_key=person.slack_id, now=now,
        before={"away_until": before}, after={"away_until": until.isoformat() if until else None},
    )


def set_away_of(*, session: Session, person_id: int, until: date | None, today: date,
                now: datetime) -> date | None:
    """Set (or clear) someone's absence by id; returns the date they were away until before.

    Nothing is written (or audited) when the date does not change.
    """
    person = session.get(Person, person_id)
    if person is None:
        raise InvalidValue("unknown person", field="until")
    before = person.away_until
    if before != until:
        set_away(session=session, person=person, until=until, today=today, now=now)
    return before


def refresh_known(*, session: Session, workspace_id: int, user: Mapping[str, Any],
                  now: datetime) -> bool:
    """Apply a Slack ``user_change`` to a person we already know; False for strangers
    (joining the workspace is not joining the OKRs)."""
    if by_slack_id(session=session, workspace_id=workspace_id, slack_id=str(user["id"])) is None:
        return False
    upsert_from_slack(session=session, workspace_id=workspace_id, user=user, now=now)
    return True
