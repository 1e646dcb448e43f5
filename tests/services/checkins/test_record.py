"""The check-in service: validation per KR type, idempotency, workspace scoping, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CheckinAnswer, CheckinSource
from app.models import Checkin, KeyResult, Workspace
from app.services.checkins import record as checkins
from app.services.errors import InvalidValue
from app.services.okrs import report
from tests.services.helpers import SMALL_ORG, run_import


def _kr(session: Session, key: str) -> KeyResult:
    ws = session.scalars(select(Workspace)).one()
    kr = report.kr_by_key(session=session, workspace_id=ws.id, key=key)
    assert kr is not None
    return kr


def _record(session: Session, kr: KeyResult, now, **kwargs) -> Checkin:
    key = kwargs.pop("idempotency_key", None)
    return checkins.record(session=session, workspace_id=kr.workspace_id, kr=kr,
                           data=CheckinAnswer(kr_key=kr.key, **kwargs), author_id=None,
                           actor_label="test", source=CheckinSource.CLI, now=now,
                           idempotency_key=key)


BAD = [
    ("k1", {}, "value", "enter the current value"),
    ("k1", {"value": float("nan")}, "value", "that is not a usable number"),
    ("k1", {"value": 1e16}, "value", "that is not a usable number"),
    ("k2", {"value": None}, "value", "enter the current value"),
    ("k3", {"value": 0.5}, "value", "a milestone is done (1) or not (0)"),
    ("k4", {"value": -1}, "value", "a percentage is between 0 and 100"),
    ("k4", {"value": 100.5}, "value", "a percentage is between 0 and 100"),
    ("k5", {}, "value", "enter the current value"),
    ("k6", {}, "score", "enter a score between 0.0 and 1.0"),
    ("k6", {"score": 1.5}, "score", "a score is between 0.0 and 1.0"),
    ("k1", {"value": 3, "status": "blue"}, "status", "status is green, yellow or red"),
    ("k1", {"value": 3, "confidence": "sure"}, "confidence", "confidence is low, medium or high"),
    ("k1", {"value": 3, "note": "x" * 3001}, "note", "keep the note under 3000 characters"),
]


@pytest.mark.parametrize(("key", "data", "field", "message"), BAD)
def test_bad_values_are_refused_and_nothing_is_stored(session: Session, now, key: str,
                                                      data: dict[str, object], field: str,
                                                      message: str) -> None:
    run_import(session, SMALL_ORG, now)
    kr = _kr(session, key)
    before = (kr.current_value, kr.manual_score, len(session.scalars(select(Checkin)).all()))
    with pytest.raises(InvalidValue) as info:
        _record(session, kr, now + timedelta(hours=1), **data)
    assert (info.value.field, info.value.message) == (field, message)
    session.flush()
    assert (kr.current_value, kr.manual_score,
            len(session.scalars(select(Checkin)).all())) == before


def test_idempotency_key_records_once(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    kr = _kr(session, "k1")
    first = _record(session, kr, now + timedelta(hours=1), value=7, idempotency_key="abc")
    again = _record(session, kr, now + timedelta(hours=2), value=8, idempotency_key="abc")
    assert again.id == first.id
    rows = session.scalars(select(Checkin).where(Checkin.idempotency_key == "abc")).all()
    assert len(rows) == 1 and kr.current_value == 7


def test_a_kr_of_another_workspace_is_refused(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    kr = _kr(session, "k1")
    other = Workspace(name="other", created_at=now, holiday_dates=[])
    session.add(other)
    session.flush()
    with pytest.raises(InvalidValue):
        checkins.record(session=session, workspace_id=other.id, kr=kr,
                        data=CheckinAnswer(kr_key="k1", value=9), author_id=None,
                        actor_label="test", source=CheckinSource.CLI, now=now)
    assert report.kr_by_key(session=session, workspace_id=other.id, key="k1") is None


def test_history_is_append_only(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    kr = _kr(session, "k1")
    first = _record(session, kr, now + timedelta(hours=1), value=6, note="first")
    snapshot = (first.id, first.value, first.score, first.note, first.at)
    _record(session, kr, now + timedelta(hours=2), value=8, note="second")
    session.expire_all()
    rows = session.scalars(select(Checkin).where(Checkin.kr_id == kr.id)
                           .order_by(Checkin.at)).all()
    # The import's check-in (current: 5), then ours: the first is untouched.
    assert [r.value for r in rows] == [5, 6, 8]
    assert (rows[1].id, rows[1].value, rows[1].score, rows[1].note, rows[1].at) == snapshot
    assert _kr(session, "k1").current_value == 8


def test_a_back_dated_checkin_keeps_the_latest_projection(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    kr = _kr(session, "k1")
    _record(session, kr, now - timedelta(days=3), value=2)
    assert (kr.current_value, kr.last_checkin_at) == (5, now)
    assert len(session.scalars(select(Checkin).where(Checkin.kr_id == kr.id)).all()) == 2
