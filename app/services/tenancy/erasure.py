"""Erasing a person: their personal data goes, the numbers stay (docs/data-retention.md).

The person row keeps its id (check-ins, scores and ownership still point at it) but loses
everything that identifies them: name, e-mail, time zone, and the Slack id, which becomes an
anonymous key (``erased-<hash of random bytes>``, so it cannot be recomputed from the id).
The same identifiers are replaced in the audit log and in the scheduler's delivery rows. With
``notes`` the texts they wrote are blanked (check-in notes and blockers, review evidence,
reflections, revision reasons): history is append-only everywhere else; erasure is the one
lawful exception, and it blanks text while keeping the rows. The erasure itself is audited
without any of the erased data.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.models import (
    AuditEntry,
    Checkin,
    Delivery,
    KRRevision,
    Person,
    Reflection,
    Review,
)
from app.services import audit
from app.services.errors import NotFound

ERASED_NAME = "Erased person"
ERASED = "erased"
ANON_PREFIX = "erased-"


@dataclass(frozen=True)
class Erased:
    person_id: int
    key: str  # the anonymous key now in place of the Slack id
    counts: Counter[str]


def anonymous_key(slack_id: str) -> str:
    """``erased-`` and 16 hex digits of a hash salted with random bytes (not reversible)."""
    digest = hashlib.sha256(secrets.token_bytes(16) + slack_id.encode()).hexdigest()
    return ANON_PREFIX + digest[:16]


def erase(*, session: Session, workspace_id: int, slack_id: str, now: datetime,
          notes: bool = False, actor_label: str = "cli") -> Erased:
    person = session.scalars(select(Person).where(
        Person.workspace_id == workspace_id, Person.slack_id == slack_id)).first()
    if person is None:
        raise NotFound(f"no person {slack_id!r} in this workspace")
    key = anonymous_key(slack_id)
    identifiers = {v for v in (person.slack_id, person.name, person.display_name, person.email)
                   if v}
    person.slack_id, person.name, person.email, person.tz = key, ERASED_NAME, None, "UTC"
    person.display_name = None
    person.active, person.is_admin, person.away_until = False, False, None
    person.checkin_schedule = None
    # Where and when someone works says where they live: it goes too.
    person.away_from, person.holiday_calendar = None, None
    person.work_days, person.work_hours = None, None
    person.deactivated_at = person.deactivated_at or now
    counts: Counter[str] = Counter()
    counts["deliveries"] = _deliveries(session, workspace_id, person.id, slack_id, key)
    counts["audit_entries"] = _audit_log(session, workspace_id, person.id, slack_id, key,
                                         identifiers)
    if notes:
        counts.update(_blank_notes(session, workspace_id, person.id))
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 action="person.erase", subject_type="person", subject_key=key, now=now,
                 after={"notes": notes, **{k: v for k, v in counts.items() if v}})
    return Erased(person_id=person.id, key=key, counts=counts)


def _deliveries(session: Session, workspace_id: int, person_id: int, slack_id: str,
                key: str) -> int:
    """Their delivery rows name the anonymous key; what was still to be sent is not."""
    mine = (Delivery.workspace_id == workspace_id,
            or_(Delivery.person_id == person_id, Delivery.target == slack_id))
    session.execute(update(Delivery).where(*mine, Delivery.state == "pending").values(
        state="skipped", error="the person's data was erased"))
    result = session.execute(update(Delivery).where(*mine, Delivery.target == slack_id)
                             .values(target=key, channel=None))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _audit_log(session: Session, workspace_id: int, person_id: int, slack_id: str, key: str,
               identifiers: set[str]) -> int:
    """Entries by or about them, and any value naming them, use the anonymous key."""
    changed = 0
    for entry in session.scalars(select(AuditEntry).where(
            AuditEntry.workspace_id == workspace_id)):
        before = (entry.actor_label, entry.subject_key, entry.before, entry.after)
        entry.actor_label = entry.actor_label.replace(slack_id, key)
        if entry.subject_key in identifiers:
            entry.subject_key = key
        entry.before = _scrub(entry.before, identifiers, slack_id, key)
        entry.after = _scrub(entry.after, identifiers, slack_id, key)
        if (entry.actor_label, entry.subject_key, entry.before, entry.after) != before:
            changed += 1
    return changed


def _scrub(value: Any, identifiers: set[str], slack_id: str, key: str) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, identifiers, slack_id, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, identifiers, slack_id, key) for v in value]
    if isinstance(value, str):
        if value == slack_id:
            return key
        if value in identifiers:
            return ERASED
        return value.replace(slack_id, key)
    return value


def _blank_notes(session: Session, workspace_id: int, person_id: int) -> Counter[str]:
    """Blank the texts they wrote; every row (value, score, status, date) stays."""
    counts: Counter[str] = Counter()
    blanks: list[tuple[str, Any, Any, dict[str, Any]]] = [
        ("checkin_notes", Checkin, Checkin.author_id, {"note": None, "blockers": None}),
        ("review_evidence", Review, Review.author_id, {"evidence": None}),
        ("reflections", Reflection, Reflection.person_id,
         {"worked": None, "did_not_work": None, "carry_forward": None}),
        ("revision_reasons", KRRevision, KRRevision.author_id, {"reason": ""}),
    ]
    for name, model, author, values in blanks:
        result = session.execute(update(model).where(
            model.workspace_id == workspace_id, author == person_id).values(**values))
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts
