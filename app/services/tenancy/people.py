"""People: matched to Slack users by id; time zones, absence and deactivation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Person
from app.services import audit
from app.services.errors import InvalidValue

SLACKBOT = "USLACKBOT"
SLACK = "slack"  # Person.tz_source: the time zone follows Slack
PERSON = "person"  # ... the person chose it


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


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What we keep of a Slack user object (``users.list``, ``users.info``, events)."""

    slack_id: str
    name: str
    display_name: str | None
    tz: str | None
    email: str | None
    deleted: bool
    is_bot: bool

    @classmethod
    def of(cls, user: Mapping[str, Any]) -> SlackUser:
        slack_id = str(user["id"])
        profile = user.get("profile") or {}
        display = _text(profile.get("display_name"))
        name = (_text(profile.get("real_name")) or _text(user.get("real_name")) or display
                or _text(user.get("name")) or slack_id)
        tz = user.get("tz")
        return cls(
            slack_id=slack_id, name=name[:200], display_name=display[:200] if display else None,
            tz=tz if isinstance(tz, str) and valid_tz(tz) else None,
            email=(_text(profile.get("email")) or None),
            deleted=bool(user.get("deleted")),
            is_bot=bool(user.get("is_bot")) or slack_id == SLACKBOT,
        )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def upsert_from_slack(
    *, session: Session, workspace_id: int, user: Mapping[str, Any], now: datetime
) -> Person:
    """Create or refresh a person from a Slack ``users.info`` user object (or ``user_change``)."""
    su = SlackUser.of(user)
    person = by_slack_id(session=session, workspace_id=workspace_id, slack_id=su.slack_id)
    if person is None:
        return add(session=session, workspace_id=workspace_id, user=su, now=now)
    refresh(session=session, person=person, user=su, now=now)
    return person


def add(*, session: Session, workspace_id: int, user: SlackUser, now: datetime) -> Person:
    """A new person from Slack's user. When someone else added them meanwhile (a directory
    sync and a first command of the same new user, say), theirs stands and is returned."""
    person = Person(
        workspace_id=workspace_id, slack_id=user.slack_id, name=user.name,
        display_name=user.display_name, tz=user.tz or "UTC", tz_source=SLACK, email=user.email,
        active=not user.deleted, deactivated_in_slack=user.deleted,
        deactivated_at=now if user.deleted else None, created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(person)
    except IntegrityError:
        theirs = by_slack_id(session=session, workspace_id=workspace_id, slack_id=user.slack_id)
        if theirs is None:
            raise
        return theirs
    return person


def refresh(*, session: Session, person: Person, user: SlackUser, now: datetime) -> str | None:
    """Bring what Slack owns up to date (name, display name, email, time zone unless the person
    chose theirs, deactivation); the person's own settings are left alone. Returns
    ``"deactivated"``, ``"reactivated"``, ``"updated"`` or None (nothing changed)."""
    changed = False
    values: dict[str, Any] = {"name": user.name, "display_name": user.display_name}
    if user.email:  # absent without users:read.email: keep what we have
        values["email"] = user.email
    if user.tz and person.tz_source != PERSON:
        values["tz"] = user.tz
    for key, value in values.items():
        if getattr(person, key) != value:
            setattr(person, key, value)
            changed = True
    if user.deleted and not person.deactivated_in_slack:
        person.deactivated_in_slack = True
        if person.active:
            deactivate(session=session, person=person, now=now, reason="deleted in Slack")
            return "deactivated"
        changed = True
    elif not user.deleted and person.deactivated_in_slack:
        person.deactivated_in_slack = False
        if not person.active:
            person.active = True
            person.deactivated_at = None
            audit.record(
                session=session, workspace_id=person.workspace_id, actor_label="slack",
                action="person.reactivate", subject_type="person", subject_key=person.slack_id,
                now=now, before={"active": False}, after={"active": True},
            )
            return "reactivated"
        changed = True
    return "updated" if changed else None


def set_own_tz(*, session: Session, person: Person, tz: str | None, now: datetime) -> None:
    """The person's own time zone, kept over Slack's by every sync; ``None`` follows Slack
    again (from the next sync or ``user_change``)."""
    if tz is not None and not valid_tz(tz):
        raise InvalidValue(f"{tz!r} is not a time zone (e.g. Europe/Berlin)", field="tz")
    before = {"tz": person.tz, "tz_source": person.tz_source}
    if tz is None:
        person.tz_source = SLACK
    else:
        person.tz, person.tz_source = tz, PERSON
    audit.record(
        session=session, workspace_id=person.workspace_id, actor_id=person.id,
        actor_label=f"slack:{person.slack_id}", action="person.tz", subject_type="person",
        subject_key=person.slack_id, now=now, before=before,
        after={"tz": person.tz, "tz_source": person.tz_source},
    )


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
    *, session: Session, person: Person, until: date | None, today: date, now: datetime,
    away_from: date | None = None,
) -> None:
    """Mark someone away until a date (inclusive), from ``away_from`` (None: from now on);
    ``None`` means back."""
    if until is not None and until < today:
        raise InvalidValue(f"{until.isoformat()} is in the past", field="until")
    before = person.away_until.isoformat() if person.away_until else None
    person.away_until = until
    person.away_from = away_from if until is not None else None
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


def apply_event_user(*, session: Session, workspace_id: int, user: Mapping[str, Any],
                     now: datetime) -> str | None:
    """A ``team_join`` or ``user_change``: the directory follows Slack. Bots are left out, and
    someone deactivated before we ever saw them is not added. Returns what happened
    (``"added"``, see :func:`refresh`), or None."""
    su = SlackUser.of(user)
    if su.is_bot:
        return None
    person = by_slack_id(session=session, workspace_id=workspace_id, slack_id=su.slack_id)
    if person is None:
        if su.deleted:
            return None
        add(session=session, workspace_id=workspace_id, user=su, now=now)
        return "added"
    return refresh(session=session, person=person, user=su, now=now)
