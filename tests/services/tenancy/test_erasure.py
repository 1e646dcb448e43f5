"""Erasing a person: no personal data left anywhere in the workspace, the numbers intact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import AuditEntry, Checkin, Delivery, Person, Reflection
from app.services import audit
from app.services.errors import NotFound
from app.services.tenancy import erasure, retention
from tests.slack import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERSONAL = ("U0BOB", "Bob", "bob@example.com")


def every_value(session: Session, workspace_id: int) -> str:
    """Every row of every table of the workspace, as one string."""
    rows = []
    for table in retention.scoped_tables():
        rows += [str(tuple(r)) for r in session.execute(
            select(table).where(table.c.workspace_id == workspace_id))]
    return "\n".join(rows)


def populate(session: Session) -> seed.Org:
    org = seed.standard(session, NOW)
    bob = org.people["U0BOB"]
    bob.email = "bob@example.com"
    bob.holiday_calendar, bob.work_hours, bob.work_days = "IN-KA", "09:30-18:30", ["mon"]
    ws_id = org.workspace.id
    for value, note in ((20.0, "Bob's own words"), (30.0, "blocked by legal")):
        session.add(Checkin(workspace_id=ws_id, kr_id=org.krs["kr-inc"].id, author_id=bob.id,
                            at=NOW, value=value, score=value / 50, status="green", note=note,
                            blockers="waiting on Bob's manager", source="slack"))
    session.add(Checkin(workspace_id=ws_id, kr_id=org.krs["kr-cy"].id,
                        author_id=org.people["U0CY"].id, at=NOW, value=1.0, note="Cy's note",
                        source="slack"))
    assert org.cycle is not None
    session.add(Reflection(workspace_id=ws_id, cycle_id=org.cycle.id, person_id=bob.id,
                           worked="pairing", at=NOW))
    session.add(Delivery(workspace_id=ws_id, kind="prompt", target="U0BOB", occurrence="d1",
                         due_at=NOW, created_at=NOW, person_id=bob.id, channel="D0BOB"))
    audit.record(session=session, workspace_id=ws_id, actor_label="slack:U0BOB",
                 action="person.update", subject_type="person", subject_key="U0BOB", now=NOW,
                 actor_id=bob.id, before={"name": "Bob"}, after={"email": "bob@example.com"})
    session.flush()
    return org


def test_erase_keeps_numbers_and_leaves_no_personal_data(session: Session) -> None:
    org = populate(session)
    ws_id, bob_id = org.workspace.id, org.people["U0BOB"].id
    done = erasure.erase(session=session, workspace_id=ws_id, slack_id="U0BOB", now=NOW,
                         notes=True)
    session.expire_all()
    dump = every_value(session, ws_id)
    for value in (*PERSONAL, "Bob's own words", "blocked by legal", "pairing"):
        assert value not in dump, value
    assert "Cy's note" in dump  # other people's notes stay
    bob = session.get(Person, bob_id)
    assert bob is not None and bob.slack_id == done.key and done.key.startswith("erased-")
    assert (bob.name, bob.email, bob.tz, bob.active) == ("Erased person", None, "UTC", False)
    assert (bob.holiday_calendar, bob.work_hours, bob.work_days) == (None, None, None)
    kept = session.scalars(select(Checkin).where(Checkin.author_id == bob_id)
                           .order_by(Checkin.value)).all()
    assert [(c.value, c.score, c.status, c.note, c.blockers) for c in kept] == [
        (20.0, 0.4, "green", None, None), (30.0, 0.6, "green", None, None)]
    assert session.scalars(select(Delivery.state).where(Delivery.person_id == bob_id)).all() \
        == ["skipped"]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "person.erase")).one()
    assert entry.subject_key == done.key
    assert not any(v in str((entry.before, entry.after, entry.actor_label)) for v in PERSONAL)


def test_erase_without_notes_keeps_texts(session: Session) -> None:
    org = populate(session)
    erasure.erase(session=session, workspace_id=org.workspace.id, slack_id="U0BOB", now=NOW)
    session.expire_all()
    notes = session.execute(text("SELECT note FROM checkins WHERE author_id = :p"),
                            {"p": org.people["U0BOB"].id}).scalars().all()
    assert sorted(notes) == ["Bob's own words", "blocked by legal"]
    assert "bob@example.com" not in every_value(session, org.workspace.id)


def test_erase_unknown_person_changes_nothing(session: Session) -> None:
    org = populate(session)
    with pytest.raises(NotFound, match="no person 'U0NOPE'"):
        erasure.erase(session=session, workspace_id=org.workspace.id, slack_id="U0NOPE", now=NOW)
