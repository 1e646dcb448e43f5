"""``no_change.repeat_last``: the last value and declared status, through the form service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource
from app.models import Checkin, KeyResult
from app.services.checkins import no_change, record
from tests.slack import seed


@dataclass(frozen=True)
class Me:
    id: int
    is_admin: bool = False


def _kr(session: Session, key: str) -> KeyResult:
    return session.scalars(select(KeyResult).where(KeyResult.key == key)).one()


def _repeat(session: Session, org: seed.Org, now: datetime, keys: tuple[str, ...] = (),
            prefix: str = "slack:nochange:1") -> no_change.NoChangeOutcome:
    bob = org.people["U0BOB"]
    return no_change.repeat_last(
        session=session, workspace_id=org.workspace.id, actor=Me(bob.id), slack_id="U0BOB",
        actor_label="slack:U0BOB", kr_keys=keys, key_prefix=prefix, now=now,
        settings=ScoringSettings(_env_file=None))  # type: ignore[call-arg]


def test_repeats_value_and_declared_status_and_skips_the_never_checked_in(
        session: Session, now: datetime) -> None:
    org = seed.standard(session, now)
    earlier = now - timedelta(days=5)
    inc = _kr(session, "kr-inc")
    record.record(session=session, workspace_id=org.workspace.id, kr=inc,
                  data=CheckinAnswer("kr-inc", value=22.0, status="red"), author_id=None,
                  actor_label="t", source=CheckinSource.CLI, now=earlier)
    # Checked in without ever declaring a status (the API allows it): the pace suggestion.
    pct = _kr(session, "kr-pct")
    record.record(session=session, workspace_id=org.workspace.id, kr=pct,
                  data=CheckinAnswer("kr-pct", value=35.0), author_id=None,
                  actor_label="t", source=CheckinSource.API, now=earlier)
    out = _repeat(session, org, now)
    assert out.ok
    assert [(title, status) for title, status, _ in out.recorded] == [
        ("Grow activation", "red"), ("Docs coverage", out.recorded[1][1])]
    assert out.recorded[1][1] in ("green", "yellow", "red")
    assert sorted(kr.key for kr in out.skipped) == ["kr-dec", "kr-man", "kr-ms"]
    rows = session.scalars(select(Checkin).where(Checkin.at == now)).all()
    assert {(r.value, r.note, r.source) for r in rows} == {(22.0, "no change", "slack"),
                                                           (35.0, "no change", "slack")}
    assert inc.current_value == 22.0 and inc.declared_status == "red"
    # Again with the same prefix: nothing new, the same summary.
    again = _repeat(session, org, now + timedelta(seconds=2))
    assert again.recorded == out.recorded
    assert len(session.scalars(select(Checkin)).all()) == 4


def test_only_the_named_krs_and_only_mine(session: Session, now: datetime) -> None:
    org = seed.standard(session, now)
    for key in ("kr-inc", "kr-dec", "kr-cy"):
        kr = _kr(session, key)
        record.record(session=session, workspace_id=org.workspace.id, kr=kr,
                      data=CheckinAnswer(key, value=11.0 if key != "kr-cy" else 1.0,
                                         status="green"),
                      author_id=None, actor_label="t", source=CheckinSource.CLI,
                      now=now - timedelta(days=5))
    out = _repeat(session, org, now, keys=("kr-dec", "kr-cy", "nope"))
    assert [title for title, _, _ in out.recorded] == ["Cut time to value"]
    assert out.skipped == ()
    assert session.scalars(select(Checkin).where(Checkin.at == now)).one().kr_id == \
        _kr(session, "kr-dec").id
