"""A workspace that uninstalled the app gets nothing: no new rows, nothing already queued is
sent; re-enabled, it is served again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Delivery, Workspace
from app.services.tenancy import retention
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, posts


def prompts(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with unit_of_work(factory) as s:
        return [(d.target, d.occurrence, d.state) for d in s.scalars(
            select(Delivery).where(Delivery.kind == "prompt", Delivery.target == "U0ADA")
            .order_by(Delivery.id))]


def test_disabled_workspace_gets_no_delivery(clock: Clock, fake_slack: FakeSlack, org: int,
                                             session_factory: sessionmaker[Session]) -> None:
    # Monday 2 March 2026, 09:00 UTC is 10:00 in Berlin: Ada's prompt falls due.
    clock.tick("2026-03-02T09:00:30+00:00", deliver=False)
    assert prompts(session_factory) == [("U0ADA", "2026-03-02", "pending")]
    with unit_of_work(session_factory) as s:
        retention.disable(session=s, workspace_id=org, now=datetime(2026, 3, 2, 9, 1, tzinfo=UTC),
                          retention_days=30)

    clock.tick("2026-03-02T09:01:00+00:00")
    assert posts(fake_slack) == []  # the queued prompt is not sent
    clock.tick("2026-03-09T09:00:30+00:00")  # next Monday: nothing new is enqueued
    assert prompts(session_factory) == [("U0ADA", "2026-03-02", "pending")]
    assert posts(fake_slack) == []

    with unit_of_work(session_factory) as s:
        ws = s.get(Workspace, org)
        assert ws is not None
        assert retention.enable(session=s, ws=ws, now=datetime(2026, 3, 16, tzinfo=UTC),
                                actor_label="test")
    clock.tick("2026-03-16T09:00:30+00:00")
    assert posts(fake_slack, "U0ADA")  # served again


def test_the_tick_purges_a_workspace_past_its_retention(
        clock: Clock, org: int, session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory) as s:
        retention.disable(session=s, workspace_id=org, now=datetime(2026, 3, 1, tzinfo=UTC),
                          retention_days=30)
    clock.tick("2026-03-30T23:00:00+00:00", deliver=False)
    with unit_of_work(session_factory) as s:
        assert s.get(Workspace, org) is not None  # not due yet
    clock.tick("2026-03-31T00:00:30+00:00", deliver=False)
    with unit_of_work(session_factory) as s:
        assert s.get(Workspace, org) is None
        assert s.scalars(select(Delivery).where(Delivery.workspace_id == org)).first() is None
