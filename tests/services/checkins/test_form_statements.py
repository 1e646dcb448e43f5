"""A Slack check-in form on PostgreSQL: one read and one write, whatever its size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.domain import CheckinAnswer
from app.models import AuditEntry, Checkin, Person
from app.services.checkins import forms
from app.services.tenancy.actors import Actor
from tests.dbutil import recorded_statements
from tests.slack import seed


@pytest.fixture()
def statements(session: Session) -> Iterator[list[str]]:
    with recorded_statements(session.get_bind()) as seen:
        yield seen


def _answers() -> list[CheckinAnswer]:
    return [CheckinAnswer("kr-inc", value_text="30", status="green"),
            CheckinAnswer("kr-dec", value_text="9", status="yellow", note="slower"),
            CheckinAnswer("kr-pct", value_text="40", status="green")]


@pytest.mark.parametrize("db_engine", ["postgresql"], indirect=True)
def test_three_krs_are_one_read_and_one_write(session: Session, now: datetime,
                                              statements: list[str]) -> None:
    org = seed.standard(session, now)
    session.commit()
    bob = session.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
    actor = Actor.of(bob, Settings(_env_file=None))
    statements.clear()
    out = forms.submit(session=session, workspace_id=org.workspace.id, actor=actor,
                       actor_label="slack:U0BOB", answers=_answers(), now=now,
                       key_prefix="slack:V1:0")
    assert out.ok and out.recorded == ["kr-inc", "kr-dec", "kr-pct"]
    assert len(statements) == 2, statements
    session.commit()
    assert session.scalar(select(func.count()).select_from(Checkin)) == 3
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "checkin")) == 3
    assert org.krs["kr-dec"].current_value == 9.0
