"""``checkins.record_batch`` keeps exactly the rules of ``checkins.record``."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CheckinAnswer, CheckinSource
from app.models import AuditEntry, Checkin, KeyResult
from app.services.checkins import record as checkins
from app.services.checkins.record import record_batch
from tests.slack import seed

CASES = [
    ({"kr_type": "increase", "start_value": 0.0, "target_value": 10.0},
     CheckinAnswer("x", value=4.0, status="yellow", confidence="low", note="n", blockers="b")),
    ({"kr_type": "milestone"}, CheckinAnswer("x", value=1.0, status="green")),
    ({"kr_type": "manual", "manual_score": 0.2}, CheckinAnswer("x", score=0.7, status="green")),
    ({"kr_type": "percent", "start_value": 0.0, "target_value": 100.0, "current_value": 30.0,
      "last_checkin_at": "earlier"}, CheckinAnswer("x", no_change=True, status="red")),
    ({"kr_type": "increase", "start_value": 0.0, "target_value": 10.0, "current_value": 8.0,
      "last_checkin_at": "later"}, CheckinAnswer("x", value=2.0, status="red")),
]
FIELDS = ("current_value", "manual_score", "declared_status", "state", "last_checkin_at")


def make_kr(s: Session, org: seed.Org, key: str, spec: dict[str, object],
            now: datetime) -> KeyResult:
    spec = dict(spec)
    when = spec.pop("last_checkin_at", None)
    at = {"earlier": now - timedelta(days=3), "later": now + timedelta(days=3)}.get(str(when))
    obj = org.objectives["eng-onboarding"]
    kr = KeyResult(workspace_id=org.workspace.id, objective_id=obj.id, key=key, title=key,
                   created_at=now, updated_at=now, last_checkin_at=at, **spec)
    s.add(kr)
    s.flush()
    return kr


@pytest.mark.parametrize(("spec", "data"), CASES)
def test_batch_matches_record(session: Session, now: datetime, spec: dict[str, object],
                              data: CheckinAnswer) -> None:
    org = seed.standard(session, now)
    one = make_kr(session, org, "one", spec, now)
    many = make_kr(session, org, "many", spec, now)
    checkins.record(session=session, workspace_id=org.workspace.id, kr=one, data=data,
                    author_id=None, actor_label="t", source=CheckinSource.SLACK, now=now,
                    idempotency_key="single:one")
    done = record_batch(session=session, workspace_id=org.workspace.id, items=[(many, data)],
                        author_id=None, actor_label="t", source=CheckinSource.SLACK, now=now,
                        key_prefix="batch")
    assert done == ["many"]
    session.flush()
    session.expire_all()
    assert [getattr(one, f) for f in FIELDS] == [getattr(many, f) for f in FIELDS]
    rows = {c.kr_id: c for c in session.scalars(select(Checkin))}
    a, b = rows[one.id], rows[many.id]
    assert (a.value, a.score, a.status, a.confidence, a.note, a.blockers, a.at) == \
        (b.value, b.score, b.status, b.confidence, b.note, b.blockers, b.at)
    audits = {e.subject_key: e for e in session.scalars(select(AuditEntry))}
    assert (audits["one"].before, audits["one"].after) == (audits["many"].before,
                                                           audits["many"].after)


def test_batch_is_idempotent(session: Session, now: datetime) -> None:
    org = seed.standard(session, now)
    kr = org.krs["kr-inc"]
    data = CheckinAnswer("kr-inc", value=5.0, status="green")
    first = record_batch(session=session, workspace_id=org.workspace.id, items=[(kr, data)],
                         author_id=None, actor_label="t", source=CheckinSource.SLACK, now=now,
                         key_prefix="k")
    again = record_batch(session=session, workspace_id=org.workspace.id, items=[(kr, data)],
                         author_id=None, actor_label="t", source=CheckinSource.SLACK,
                         now=now + timedelta(seconds=1), key_prefix="k")
    assert (first, again) == (["kr-inc"], [])
    assert len(session.scalars(select(Checkin)).all()) == 1
    assert kr.last_checkin_at == now
