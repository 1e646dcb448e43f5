"""A mid-cycle target change reaches the team's next digest, with the old value and reason."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import KeyResult, Person
from app.services.okrs import adjustments
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts


def test_target_change_is_in_the_next_digest(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    clock.tick("2026-03-06T15:00:30+00:00")  # the first digest, 16:00 in Berlin
    first = json.dumps(posts(fake_slack, "C0ENG")[-1]["blocks"], ensure_ascii=False)
    assert "Market research" not in first
    with unit_of_work(session_factory) as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-ttv")).one()
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        adjustments.adjust_kr(session=s, workspace_id=kr.workspace_id, kr=kr, person=bob,
                              reason="Market research moved the goal", target=7,
                              now=datetime.fromisoformat("2026-03-10T09:00:00+00:00"))
    clock.tick("2026-03-13T15:00:30+00:00")
    latest = posts(fake_slack, "C0ENG")[-1]
    text = json.dumps(latest["blocks"], ensure_ascii=False)
    assert not latest["text"].startswith(":zzz:")  # a change is never a quiet week
    assert "target changed from 5 to 7: Market research moved the goal" in text
