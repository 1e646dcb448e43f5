"""Correcting a check-in: Edit and Undo append rows, the KR follows the entry in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource
from app.models import AuditEntry, Checkin, IssueLink, KeyResult, Person, Workspace
from app.services.checkins import corrections
from app.services.checkins import record as checkins
from app.services.data import export as exports
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.okrs import load, report
from tests.dbutil import recorded_statements
from tests.services.helpers import SMALL_ORG, run_import


@dataclass(frozen=True)
class Who:
    id: int
    is_admin: bool = False


def _ws(session: Session) -> Workspace:
    return session.scalars(select(Workspace)).one()


def _kr(session: Session, key: str) -> KeyResult:
    kr = report.kr_by_key(session=session, workspace_id=_ws(session).id, key=key)
    assert kr is not None
    return kr


def _person(session: Session, slack_id: str) -> Person:
    return session.scalars(select(Person).where(Person.slack_id == slack_id)).one()


def _checkin(session: Session, kr: KeyResult, who: Person, at: datetime, **kw: object) -> Checkin:
    return checkins.record(session=session, workspace_id=kr.workspace_id, kr=kr,
                           data=CheckinAnswer(kr_key=kr.key, **kw),  # type: ignore[arg-type]
                           author_id=who.id, actor_label="test", source=CheckinSource.SLACK,
                           now=at)


def _setup(session: Session, now: datetime) -> tuple[KeyResult, Person, Checkin, datetime]:
    """k1 (increase 0 -> 10) imported at 5, then Ana checks in 7 / yellow an hour later."""
    run_import(session, SMALL_ORG, now)
    kr, ana = _kr(session, "k1"), _person(session, "U0ANA")
    at = now + timedelta(hours=1)
    first = _checkin(session, kr, ana, at, value=7.0, status="yellow", note="on our way")
    return kr, ana, first, at


def _rows(session: Session, kr: KeyResult) -> list[Checkin]:
    session.flush()
    return list(session.scalars(select(Checkin).where(Checkin.kr_id == kr.id)
                                .order_by(Checkin.id)))


def _correct(session: Session, checkin_id: int, actor: Who | None, at: datetime,
             **kw: object) -> object:
    return corrections.correct(session=session, workspace_id=_ws(session).id,
                               checkin_id=checkin_id, actor=actor, actor_label="test",
                               answer=CheckinAnswer(kr_key="", **kw),  # type: ignore[arg-type]
                               source=CheckinSource.SLACK, now=at)


def _undo(session: Session, checkin_id: int, actor: Who | None,
          at: datetime) -> tuple[object, bool]:
    return corrections.undo(session=session, workspace_id=_ws(session).id,
                            checkin_id=checkin_id, actor=actor, actor_label="test",
                            source=CheckinSource.SLACK, now=at)


def test_edit_appends_a_correction_and_moves_the_projection(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    entry = _correct(session, first.id, Who(ana.id), at + timedelta(minutes=5), value=8.0,
                     status="green", note="typo: eight")
    rows = _rows(session, kr)
    assert [(r.value, r.status, r.supersedes_id, r.undone) for r in rows] == [
        (5.0, None, None, False), (7.0, "yellow", None, False),
        (8.0, "green", first.id, False)]
    assert entry.value == 8.0 and entry.id == rows[-1].id  # type: ignore[attr-defined]
    assert (kr.current_value, kr.declared_status) == (8.0, "green")
    assert kr.last_checkin_at == at + timedelta(minutes=5)
    # The read model sees the correction only: the superseded 7 is not "the previous" one.
    last = load.last_checkins(session, [kr.id])[kr.id]
    assert (last.score, last.previous_score, last.note) == (0.8, 0.5, "typo: eight")
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "checkin.correct"))


def test_undo_restores_what_was_in_force_before(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    imported_at = _rows(session, kr)[0].at
    _entry, recorded = _undo(session, first.id, Who(ana.id), at + timedelta(hours=2))
    assert recorded
    rows = _rows(session, kr)
    assert len(rows) == 3
    undo = rows[-1]
    assert (undo.undone, undo.supersedes_id, undo.value, undo.status) == (True, first.id, 5.0,
                                                                           None)
    assert (kr.current_value, kr.declared_status, kr.last_checkin_at) == (5.0, None,
                                                                           imported_at)
    last = load.last_checkins(session, [kr.id])[kr.id]
    assert (last.score, last.previous_score, last.note) == (0.5, None, None)
    # A second tap records nothing more.
    again, recorded = _undo(session, first.id, Who(ana.id), at + timedelta(hours=3))
    assert not recorded and again.id == undo.id  # type: ignore[attr-defined]
    assert len(_rows(session, kr)) == 3


def test_undo_after_an_edit_withdraws_the_whole_check_in(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    _correct(session, first.id, Who(ana.id), at + timedelta(minutes=1), value=9.0,
             status="green")
    _undo(session, first.id, Who(ana.id), at + timedelta(minutes=2))  # an old button: the head
    rows = _rows(session, kr)
    assert [r.undone for r in rows] == [False, False, False, True]
    assert rows[-1].supersedes_id == rows[2].id
    assert (kr.current_value, kr.declared_status) == (5.0, None)


def test_undo_of_the_only_check_in_restores_none(session: Session, now) -> None:
    run_import(session, SMALL_ORG.replace("target: 10, current: 5}", "target: 10}"), now)
    kr, ana = _kr(session, "k1"), _person(session, "U0ANA")
    first = _checkin(session, kr, ana, now, value=3.0, status="red")
    _undo(session, first.id, Who(ana.id), now + timedelta(minutes=1))
    assert (kr.current_value, kr.declared_status, kr.last_checkin_at) == (None, None, None)
    assert load.last_checkins(session, [kr.id]) == {}


def test_undo_of_a_done_milestone_reopens_it(session: Session, now) -> None:
    run_import(session, SMALL_ORG.replace("type: milestone, current: 1}", "type: milestone}"),
               now)
    kr, ben = _kr(session, "k3"), _person(session, "U0BEN")
    done = _checkin(session, kr, ben, now, value=1.0, status="green")
    assert kr.state == "done"
    _undo(session, done.id, Who(ben.id), now + timedelta(minutes=1))
    assert (kr.state, kr.current_value) == ("active", None)


def test_only_the_author_or_an_admin_may_correct(session: Session, now) -> None:
    kr, _ana, first, at = _setup(session, now)
    ben = _person(session, "U0BEN")
    with pytest.raises(NotAllowed, match="only the person who checked in"):
        _correct(session, first.id, Who(ben.id), at, value=1.0)
    with pytest.raises(NotAllowed):
        _undo(session, first.id, Who(ben.id), at)
    assert len(_rows(session, kr)) == 2
    _correct(session, first.id, Who(ben.id, is_admin=True), at, value=6.0)
    assert kr.current_value == 6.0


def test_undo_is_refused_after_24_hours(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    with pytest.raises(InvalidValue, match="within 24 hours"):
        _undo(session, first.id, Who(ana.id), at + timedelta(hours=24, minutes=1))
    assert len(_rows(session, kr)) == 2 and kr.current_value == 7.0
    # Edit stays open after the window.
    _correct(session, first.id, Who(ana.id), at + timedelta(days=3), value=7.5)
    assert kr.current_value == 7.5


def test_a_later_check_in_cannot_be_overtaken(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    _checkin(session, kr, ana, at + timedelta(hours=1), value=9.0)
    for change in (lambda: _correct(session, first.id, Who(ana.id), at, value=1.0),
                   lambda: _undo(session, first.id, Who(ana.id), at)):
        with pytest.raises(InvalidValue, match="a later check-in"):
            change()
    assert kr.current_value == 9.0


def test_a_bad_correction_stores_nothing(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    with pytest.raises(InvalidValue) as info:
        _correct(session, first.id, Who(ana.id), at, value=None)
    assert info.value.field == "value"
    with pytest.raises(NotFound):
        _correct(session, 10**9, Who(ana.id), at, value=1.0)
    assert len(_rows(session, kr)) == 2


def test_an_edit_with_a_used_key_records_once(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    for _ in range(2):
        corrections.correct(session=session, workspace_id=kr.workspace_id,
                            checkin_id=first.id, actor=Who(ana.id), actor_label="test",
                            answer=CheckinAnswer(kr_key="", value=8.0, status="green"),
                            source=CheckinSource.SLACK, now=at, idempotency_key="edit:1")
    assert len(_rows(session, kr)) == 3


def test_other_workspaces_cannot_reach_a_check_in(session: Session, now) -> None:
    kr, _ana, first, at = _setup(session, now)
    with pytest.raises(NotFound):
        corrections.undo(session=session, workspace_id=kr.workspace_id + 1,
                         checkin_id=first.id, actor=None, actor_label="test",
                         source=CheckinSource.SLACK, now=at)


def test_export_marks_the_superseded_entry(session: Session, now) -> None:
    _kr, ana, first, at = _setup(session, now)
    later = at + timedelta(minutes=5)
    _correct(session, first.id, Who(ana.id), later, value=8.0, status="green")
    data = exports.gather(session=session, workspace=_ws(session), now=later,
                          settings=ScoringSettings())
    history = data.checkins["k1"]
    assert [(h["value"], h["superseded_by"], h["corrects"], h["undo"]) for h in history] == [
        (5.0, None, None, False), (7.0, later.isoformat(), None, False),
        (8.0, None, at.isoformat(), False)]
    assert "superseded_by" in exports.to_csv(data, checkins=True).splitlines()[0]


def test_summary_and_recent_follow_the_head(session: Session, now) -> None:
    kr, ana, first, at = _setup(session, now)
    edited = _correct(session, first.id, Who(ana.id), at + timedelta(minutes=1), value=8.0,
                      status="green")
    heads = corrections.summary(session=session, workspace_id=kr.workspace_id,
                                checkin_ids=[first.id], now=at + timedelta(minutes=2))
    assert [(h.id, h.value, h.can_undo) for h in heads] == [
        (edited.id, 8.0, True)]  # type: ignore[attr-defined]
    recent = corrections.recent(session=session, workspace_id=kr.workspace_id,
                                author_id=ana.id, now=at + timedelta(days=2))
    assert [(h.kr_key, h.value, h.can_undo) for h in recent] == [("k1", 8.0, False)]
    _undo(session, first.id, Who(ana.id), at + timedelta(minutes=3))
    assert corrections.recent(session=session, workspace_id=kr.workspace_id,
                              author_id=ana.id, now=at + timedelta(minutes=4)) == []


def test_an_issue_linked_check_in_is_summarised_with_its_links_score(session: Session,
                                                                      now: datetime) -> None:
    """A status-only check-in on an issues KR shows the score its links give, not a dash."""
    run_import(session, SMALL_ORG, now)
    kr, ben = _kr(session, "k7"), _person(session, "U0BEN")
    assert len(session.scalars(select(IssueLink).where(IssueLink.kr_id == kr.id)).all()) == 1
    session.add(IssueLink(workspace_id=kr.workspace_id, kr_id=kr.id,
                          url="https://github.com/acme/api/issues/2", provider="github",
                          host="github.com", project="acme/api", kind="issue", number=2,
                          weight=1.0, closed=True, state="closed", created_at=now))
    session.flush()
    row = _checkin(session, kr, ben, now + timedelta(hours=1), status="yellow", note="one left")
    assert row.score is None  # the links decide an issues KR's score, not the check-in
    (entry,) = corrections.summary(session=session, workspace_id=kr.workspace_id,
                                   checkin_ids=[row.id], now=now + timedelta(hours=1))
    assert entry.score == pytest.approx(0.5)


def test_summary_of_many_reads_each_step_of_their_chains_once(session: Session,
                                                              now: datetime) -> None:
    """Heads and roots found from any entry of a chain, with one query per step along the
    chains and one for the KRs, however many check-ins (the Home tab lists twenty)."""
    kr, ana, first, at = _setup(session, now)
    ben = _person(session, "U0BEN")
    k2 = _kr(session, "k2")
    one = _correct(session, first.id, Who(ana.id), at + timedelta(minutes=1), value=8.0)
    two = _correct(session, first.id, Who(ana.id), at + timedelta(minutes=2), value=9.0)
    others = [_checkin(session, k2, ben, at + timedelta(minutes=i), value=float(9 - i))
              for i in range(1, 6)]
    session.flush()
    with recorded_statements(session.get_bind()) as seen:
        heads = corrections.summary(
            session=session, workspace_id=kr.workspace_id, now=at + timedelta(hours=30),
            checkin_ids=[one.id, *(o.id for o in others), first.id])  # type: ignore[attr-defined]
    assert [(h.kr_key, h.id, h.value) for h in heads] == [
        ("k1", two.id, 9.0),  # type: ignore[attr-defined]
        *(("k2", o.id, o.value) for o in others), ("k1", two.id, 9.0)]  # type: ignore[attr-defined]
    assert not any(h.can_undo for h in heads)  # 24 hours after each chain's first entry
    # The rows; one step up (from the correction to its root); two steps down and the last
    # that finds nothing; the KRs.
    assert len(seen) <= 6, seen
