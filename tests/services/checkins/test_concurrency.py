"""Concurrent changes to one KR on PostgreSQL: each waits for the KR's lock and then sees
what the other committed (no lost update, no double check-in, scores computed on fresh data)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db import make_session_factory
from app.models import Checkin, IssueLink, KeyResult, WebhookDelivery
from app.services.links import attach as links
from app.services.links import webhooks
from app.services.links.attach import ItemState
from tests.fixtures.web import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTS = ["gitlab.com"]


WS = 1  # the one workspace seeded in each fresh database


def _item(number: int, state: str = "closed") -> ItemState:
    return ItemState("gitlab", "gitlab.com", "acme/web", "issue", number, state)


def _setup(engine: Engine) -> tuple[Callable[[], Session], int]:
    factory = make_session_factory(engine)
    with factory() as s:
        org = seed(s, NOW)
        for n in (1, 2):
            links.add(session=s, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                      url=f"https://gitlab.com/acme/web/-/issues/{n}", now=NOW,
                      actor_label="t", gitlab_hosts=HOSTS)
        s.commit()
        return factory, org.krs["bugs"].id


def _race(factory: Callable[[], Session], first: Callable[[Session], Any],
          second: Callable[[Session], Any]) -> tuple[Any, Any]:
    """Run ``first`` and keep its transaction open while ``second`` starts in another thread
    (and blocks on the lock); then commit the first, let the second finish and commit."""
    out: dict[str, Any] = {}
    s1 = factory()
    out["first"] = first(s1)

    def run() -> None:
        with factory() as s2:
            out["second"] = second(s2)
            s2.commit()

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.4)
    assert thread.is_alive(), "the second writer should be waiting for the KR's lock"
    s1.commit()
    s1.close()
    thread.join(timeout=10)
    return out["first"], out["second"]


def _scores(factory: Callable[[], Session], kr_id: int) -> list[float | None]:
    with factory() as s:
        return list(s.scalars(select(Checkin.score).where(Checkin.kr_id == kr_id)
                              .order_by(Checkin.id)))


def test_two_items_of_one_kr_close_at_once(fresh_engine: Engine) -> None:
    factory, kr_id = _setup(fresh_engine)
    _race(factory,
          lambda s: links.apply_state(session=s, item=_item(1), now=NOW, actor_label="a",
                                      workspace_id=WS),
          lambda s: links.apply_state(session=s, item=_item(2), now=NOW, actor_label="b",
                                      workspace_id=WS))
    # The second saw the first's close: 2 of 2, not 1 of 2 again.
    assert _scores(factory, kr_id) == [0.5, 1.0]


def test_same_delivery_twice_at_once_applies_once(fresh_engine: Engine) -> None:
    factory, kr_id = _setup(fresh_engine)

    def deliver(s: Session) -> str:
        outcome, _ = webhooks.handle(session=s, provider="gitlab", item=_item(1),
                                           delivery_id="same-id", now=NOW, workspace_id=WS)
        return outcome

    assert _race(factory, deliver, deliver) == ("applied", "duplicate")
    assert _scores(factory, kr_id) == [0.5]
    with factory() as s:
        assert s.scalars(select(WebhookDelivery.delivery_id)).all() == [f"{WS}:same-id"]


def test_two_deliveries_with_the_same_state_move_the_kr_once(fresh_engine: Engine) -> None:
    factory, kr_id = _setup(fresh_engine)

    def deliver(delivery: str) -> Callable[[Session], Any]:
        return lambda s: webhooks.handle(session=s, provider="gitlab", item=_item(1),
                                               delivery_id=delivery, now=NOW,
                                               workspace_id=WS)[1].checkins

    assert _race(factory, deliver("close-event"), deliver("update-event")) == (1, 0)
    assert _scores(factory, kr_id) == [0.5]


def test_link_added_while_an_item_closes(fresh_engine: Engine) -> None:
    factory, kr_id = _setup(fresh_engine)

    def add(s: Session) -> None:
        kr = s.get(KeyResult, kr_id)
        assert kr is not None
        links.add(session=s, workspace_id=kr.workspace_id, kr=kr,
                  url="https://gitlab.com/acme/web/-/issues/3", now=NOW, actor_label="t",
                  gitlab_hosts=HOSTS)

    _race(factory, add,
          lambda s: links.apply_state(session=s, item=_item(1), now=NOW, actor_label="b",
                                      workspace_id=WS))
    assert _scores(factory, kr_id) == [1 / 3]
    with factory() as s:
        assert len(s.scalars(select(IssueLink).where(IssueLink.kr_id == kr_id)).all()) == 3
