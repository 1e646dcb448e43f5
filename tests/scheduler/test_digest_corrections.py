"""A correction after a digest was posted: the digest is neither rewritten nor posted again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.domain import CheckinAnswer, CheckinSource
from app.models import Checkin, KeyResult
from app.services.checkins import corrections
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts
from tests.scheduler.test_followups import checkin
from tests.scheduler.test_tick import rows


def _latest(factory: sessionmaker[Session], kr_key: str) -> int:
    with factory() as s:
        return s.scalars(select(Checkin.id).join(KeyResult, KeyResult.id == Checkin.kr_id)
                         .where(KeyResult.key == kr_key).order_by(Checkin.id.desc())).first() \
            or 0


def test_a_correction_does_not_touch_a_posted_digest(
        clock: Clock, fake_slack: FakeSlack, session_factory: sessionmaker[Session]) -> None:
    checkin(session_factory, "kr-ttv", "2026-03-06T10:00:00+00:00", value=9, note="halfway")
    clock.tick("2026-03-06T15:00:30+00:00")  # the weekly digest, 16:00 in Berlin
    posted = posts(fake_slack, "C0ENG")
    assert len(posted) == 1
    updates = len(fake_slack.calls_to("chat.update"))
    first = _latest(session_factory, "kr-ttv")
    with unit_of_work(session_factory) as s:
        corrections.correct(session=s, workspace_id=s.get(Checkin, first).workspace_id,
                            checkin_id=first, actor=None, actor_label="test",
                            answer=CheckinAnswer(kr_key="", value=8, note="typo: eight"),
                            source=CheckinSource.CLI,
                            now=datetime.fromisoformat("2026-03-06T15:10:00+00:00"))
    clock.tick("2026-03-06T15:20:00+00:00")
    clock.tick("2026-03-06T18:00:00+00:00")
    assert posts(fake_slack, "C0ENG") == posted
    assert len(fake_slack.calls_to("chat.update")) == updates
    assert [d.occurrence for d in rows(session_factory, kind="digest", target="C0ENG")] == [
        "2026-03-06"]
