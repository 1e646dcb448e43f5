"""A closed cycle is read-only: check-ins, edits, adjustments and links are refused and store
nothing; a review cycle still takes check-ins; a webhook keeps the link's state but not the
score; an admin reopens the cycle by date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import CheckinAnswer, CheckinSource, CyclePhase
from app.models import AuditEntry, Checkin, Cycle, IssueLink, KeyResult, KRRevision
from app.services.checkins import record as checkins
from app.services.errors import CycleClosed, NotAllowed
from app.services.links import attach
from app.services.links.attach import ItemState
from app.services.okrs import adjustments, editing
from app.services.review import rounds
from tests.fixtures.web import Org, seed

HOSTS = ["gitlab.com"]
ISSUE = "https://gitlab.com/acme/web/-/issues/12"
OTHER = "https://gitlab.com/acme/web/-/issues/13"


@dataclass(frozen=True)
class Admin:
    id: int
    is_admin: bool = True


def _cycle(session: Session, org: Org) -> Cycle:
    cycle = session.get(Cycle, org.objective.cycle_id)
    assert cycle is not None
    return cycle


def _counts(session: Session, ws: int) -> tuple[int, int, int, int]:
    def n(model: type[Checkin] | type[AuditEntry] | type[IssueLink] | type[KRRevision]) -> int:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.workspace_id == ws)) or 0
    return n(Checkin), n(AuditEntry), n(IssueLink), n(KRRevision)


def _record(session: Session, org: Org, kr: KeyResult, value: float, now: datetime) -> Checkin:
    return checkins.record(session=session, workspace_id=org.workspace_id, kr=kr,
                           data=CheckinAnswer(kr_key=kr.key, value=value, status="green"),
                           author_id=org.person_id, actor_label="t", source=CheckinSource.CLI,
                           now=now)


@pytest.fixture()
def closed(session: Session, now: datetime) -> Org:
    """The seeded org with one link on its issues KR, then its cycle closed."""
    org = seed(session, now)
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"], url=ISSUE,
               now=now, actor_label="t", gitlab_hosts=HOSTS)
    _record(session, org, org.krs["ttfv"], 12, now)
    _cycle(session, org).phase = CyclePhase.CLOSED.value
    session.flush()
    return org


def test_every_write_is_refused_and_nothing_is_stored(session: Session, closed: Org,
                                                      now: datetime) -> None:
    org, ws, later = closed, closed.workspace_id, now + timedelta(hours=1)
    ttfv, bugs = org.krs["ttfv"], org.krs["bugs"]
    before = _counts(session, ws)
    writes = [
        lambda: _record(session, org, ttfv, 9, later),
        lambda: checkins.record_batch(
            session=session, workspace_id=ws, key_prefix="p", now=later, author_id=None,
            items=[(ttfv, CheckinAnswer(kr_key=ttfv.key, value=8, status="green"))],
            actor_label="t", source=CheckinSource.SLACK),
        lambda: editing.edit_kr(session=session, workspace_id=ws, actor=Admin(org.person_id),
                                actor_label="t", key=ttfv.key, now=later,
                                draft=editing.KRDraft(title="New", kr_type="decrease",
                                                      start=14, target=4)),
        lambda: editing.edit_objective(
            session=session, workspace_id=ws, actor=Admin(org.person_id), actor_label="t",
            key=org.objective.key, now=later,
            draft=editing.ObjectiveDraft(title="New", cycle_id=org.objective.cycle_id)),
        lambda: editing.create_objective(
            session=session, workspace_id=ws, actor=Admin(org.person_id), actor_label="t",
            objective=editing.ObjectiveDraft(title="Late", cycle_id=org.objective.cycle_id),
            krs=[editing.KRDraft(title="x", kr_type="manual")], now=later),
        lambda: adjustments.adjust_kr(session=session, workspace_id=ws, kr=ttfv, person=None,
                                      reason="r", target=6, now=later, as_admin=True),
        lambda: attach.add(session=session, workspace_id=ws, kr=bugs, url=OTHER, now=later,
                           actor_label="t", gitlab_hosts=HOSTS),
        lambda: attach.remove(session=session, workspace_id=ws, kr=bugs, url=ISSUE, now=later,
                              actor_label="t", gitlab_hosts=HOSTS),
    ]
    for write in writes:
        with pytest.raises(CycleClosed, match="FY27-Q1 is closed") as err:
            write()
        assert isinstance(err.value, NotAllowed)  # every entrypoint already refuses those
    session.expire_all()
    assert _counts(session, ws) == before
    kr = session.get(KeyResult, ttfv.id)
    assert kr is not None and (kr.current_value, kr.title, kr.target_value) == (12, "KR ttfv", 5)


def test_review_still_takes_checkins(session: Session, closed: Org, now: datetime) -> None:
    _cycle(session, closed).phase = CyclePhase.REVIEW.value
    row = _record(session, closed, closed.krs["ttfv"], 9, now + timedelta(hours=1))
    assert row.id is not None and closed.krs["ttfv"].current_value == 9


def test_webhook_keeps_the_state_but_not_the_score(session: Session, closed: Org,
                                                   now: datetime) -> None:
    bugs = closed.krs["bugs"]
    item = ItemState("gitlab", "gitlab.com", "acme/web", "issue", 12, "closed",
                     updated_at=now, title="Fix it")
    result = attach.apply_state(session=session, item=item, now=now + timedelta(hours=1),
                                actor_label="webhook", workspace_id=closed.workspace_id)
    assert (result.matched, result.changed, result.checkins) == (1, 1, 0)
    session.expire_all()
    link = session.scalars(select(IssueLink).where(IssueLink.kr_id == bugs.id)).one()
    assert (link.state, link.title, link.closed) == ("closed", "Fix it", False)
    assert session.scalars(select(Checkin).where(Checkin.kr_id == bugs.id)).all() == []
    # Reopened, the same delivery again (a retry, or the daily reconciliation) moves it.
    cycle = _cycle(session, closed)
    rounds.reopen_cycle(session=session, workspace_id=closed.workspace_id, cycle=cycle,
                        today=date(2026, 3, 2), now=now, actor_id=None, actor_label="cli")
    again = attach.apply_state(session=session, item=item, now=now + timedelta(hours=2),
                               actor_label="webhook", workspace_id=closed.workspace_id)
    assert again.checkins == 1
    session.expire_all()
    assert session.scalars(select(IssueLink.closed).where(IssueLink.kr_id == bugs.id)).one()


@pytest.mark.parametrize(("today", "phase"), [(date(2026, 4, 30), CyclePhase.ACTIVE),
                                              (date(2026, 5, 1), CyclePhase.REVIEW)])
def test_reopen_goes_back_by_date_and_is_audited(session: Session, closed: Org, now: datetime,
                                                 today: date, phase: CyclePhase) -> None:
    cycle = _cycle(session, closed)
    got = rounds.reopen_cycle(session=session, workspace_id=closed.workspace_id, cycle=cycle,
                              today=today, now=now, actor_id=closed.person_id,
                              actor_label="slack:U0ADA")
    assert got == phase and cycle.phase == phase.value
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "cycle.reopen")).one()
    assert (entry.subject_key, entry.actor_id, entry.before, entry.after) == (
        "FY27-Q1", closed.person_id, {"phase": "closed"}, {"phase": phase.value})
    row = _record(session, closed, closed.krs["ttfv"], 9, now + timedelta(hours=1))
    assert row.id is not None
    with pytest.raises(NotAllowed, match="not closed"):
        rounds.reopen_cycle(session=session, workspace_id=closed.workspace_id, cycle=cycle,
                            today=today, now=now, actor_id=None, actor_label="cli")
