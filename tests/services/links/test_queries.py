"""Saved searches against the database: links made by hand stay as people made them, a
person can adopt an item the search brought, closed cycles keep their items, a search cut
short removes nothing, and set/clear are audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Checkin, Cycle, IssueLink
from app.services.errors import InvalidValue
from app.services.links import attach, queries
from app.services.links.query_specs import from_mapping
from app.services.links.refs import ItemState
from tests.fixtures.web import Org, seed

HOSTS = ["gitlab.com"]
SPEC = {"provider": "gitlab", "project": "acme/web", "labels": ["okr-q1"]}


def _issue(n: int, state: str = "open", labels: tuple[str, ...] = ("okr-q1",)) -> ItemState:
    return ItemState("gitlab", "gitlab.com", "acme/web", "issue", n, state, labels=labels,
                     milestone="")


def _setup(session: Session, now: datetime) -> tuple[Org, int]:
    org = seed(session, now)
    queries.set_query(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                      spec=from_mapping(SPEC), now=now, actor_label="t", gitlab_hosts=HOSTS)
    row = queries.for_kr(session=session, workspace_id=org.workspace_id,
                         kr_id=org.krs["bugs"].id)
    assert row is not None
    return org, row.id


def _state(session: Session, org: Org) -> dict[int, tuple[bool, bool]]:
    """number -> (made by hand, counts)."""
    return {lk.number: (lk.query_id is None and lk.left_at is None, lk.left_at is None)
            for lk in session.scalars(select(IssueLink).where(
                IssueLink.kr_id == org.krs["bugs"].id))}


def _reconcile(session: Session, org: Org, query_id: int, items: list[ItemState],
               now: datetime, complete: bool = True) -> queries.Moved:
    return queries.reconcile(session=session, workspace_id=org.workspace_id,
                             query_id=query_id, items=items, now=now, complete=complete)


def test_hand_made_links_are_never_removed_by_a_search(session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
               url="https://gitlab.com/acme/web/-/issues/1", now=now, actor_label="t",
               gitlab_hosts=HOSTS)
    moved = _reconcile(session, org, qid, [_issue(1), _issue(2)], now)
    assert moved.added == ["acme/web#2"]  # #1 is linked by hand already
    assert _state(session, org) == {1: (True, True), 2: (False, True)}
    # Neither the search nor a webhook takes the hand-made link away.
    _reconcile(session, org, qid, [], now)
    queries.follow(session=session, item=_issue(1, labels=()), workspace_id=org.workspace_id,
                   now=now, actor_label="webhook:gitlab")
    assert _state(session, org) == {1: (True, True), 2: (False, False)}


def test_a_person_adopts_an_item_of_the_search(session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    _reconcile(session, org, qid, [_issue(1), _issue(2)], now)
    url = "https://gitlab.com/acme/web/-/issues/1"
    with pytest.raises(InvalidValue, match="matches the saved search"):
        attach.remove(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                      url=url, now=now, actor_label="t", gitlab_hosts=None)
    _link, created = attach.add(session=session, workspace_id=org.workspace_id,
                                kr=org.krs["bugs"], url=url, now=now, actor_label="t",
                                gitlab_hosts=HOSTS)
    assert created
    _reconcile(session, org, qid, [], now)
    assert _state(session, org) == {1: (True, True), 2: (False, False)}


def test_items_leaving_and_coming_back_move_the_score(session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    _reconcile(session, org, qid, [_issue(1, "closed"), _issue(2)], now)
    _reconcile(session, org, qid, [_issue(1, "closed")], now)
    _reconcile(session, org, qid, [_issue(1, "closed"), _issue(2), _issue(3)], now)
    notes = session.execute(select(Checkin.note, Checkin.score).where(
        Checkin.kr_id == org.krs["bugs"].id).order_by(Checkin.id)).all()
    assert [tuple(n) for n in notes] == [
        ("saved search: acme/web#1, acme/web#2 added", 0.5),
        ("saved search: acme/web#2 left", 1.0),
        ("saved search: acme/web#2, acme/web#3 added", pytest.approx(1 / 3))]


def test_a_search_cut_short_removes_nothing(session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    _reconcile(session, org, qid, [_issue(1), _issue(2)], now)
    moved = _reconcile(session, org, qid, [_issue(3)], now, complete=False)
    assert (moved.added, moved.left) == (["acme/web#3"], [])


def test_a_closed_cycle_keeps_its_items(session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    _reconcile(session, org, qid, [_issue(1)], now)
    cycle = session.get(Cycle, org.objective.cycle_id)
    assert cycle is not None
    cycle.phase = "closed"
    session.flush()
    assert not _reconcile(session, org, qid, [_issue(2)], now).changed
    moved = queries.follow(session=session, item=_issue(1, labels=()),
                           workspace_id=org.workspace_id, now=now, actor_label="w")
    assert not moved.changed
    assert _state(session, org) == {1: (False, True)}


def test_setting_and_clearing_are_audited_and_refused_on_other_types(
        session: Session, now: datetime) -> None:
    org, qid = _setup(session, now)
    _reconcile(session, org, qid, [_issue(1, "closed")], now)
    with pytest.raises(InvalidValue, match="only 'issues' key results"):
        queries.set_query(session=session, workspace_id=org.workspace_id, kr=org.krs["ttfv"],
                          spec=from_mapping(SPEC), now=now, actor_label="t",
                          gitlab_hosts=HOSTS)
    assert queries.set_query(session=session, workspace_id=org.workspace_id,
                             kr=org.krs["bugs"], spec=None, now=now, actor_label="t",
                             gitlab_hosts=HOSTS)
    assert _state(session, org) == {1: (False, False)}
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_key == org.krs["bugs"].key).order_by(AuditEntry.id)).all()
    assert actions == ["query.set", "checkin", "query.items", "checkin", "query.clear"]


def test_a_webhook_never_touches_another_workspace(session: Session, now: datetime) -> None:
    a, _qa = _setup(session, now)
    b = seed(session, now, name="beta", slack_id="U0BEE")
    queries.set_query(session=session, workspace_id=b.workspace_id, kr=b.krs["bugs"],
                      spec=from_mapping(SPEC), now=now, actor_label="t", gitlab_hosts=HOSTS)
    queries.follow(session=session, item=_issue(7), workspace_id=a.workspace_id, now=now,
                   actor_label="webhook:gitlab")
    assert _state(session, a) == {7: (False, True)}
    assert _state(session, b) == {}
