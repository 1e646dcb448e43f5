"""End to end over real HTTP: the served web app answers 409 for a check-in on a closed
cycle's key result and stores nothing; once reopened, the same request records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests
from sqlalchemy import Engine, func, select

from app.bootstrap import Container
from app.db import unit_of_work
from app.models import Checkin, Cycle
from app.services.review import rounds
from app.services.tenancy import tokens
from tests.fixtures.web import seed, serve_web

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture()
def served(fresh_engine: Engine) -> Iterator[tuple[str, Container]]:
    with serve_web(fresh_engine) as served:
        yield served


def test_closed_cycle_checkin_is_409_over_http(served: tuple[str, Container]) -> None:
    base, container = served
    with unit_of_work(container.session_factory) as s:
        org = seed(s, NOW)
        s.get_one(Cycle, org.objective.cycle_id).phase = "closed"
        secret = tokens.create(session=s, workspace_id=org.workspace_id, name="ci",
                               now=NOW).secret
        key = org.krs["ttfv"].key
    url = f"{base}/api/v1/key-results/{key}/checkins"
    auth = {"Authorization": f"Bearer {secret}"}
    refused = requests.post(url, json={"value": 9}, headers=auth, timeout=10)
    assert refused.status_code == 409
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.json()["error"]["code"] == "cycle_closed"
    with unit_of_work(container.session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == 0
        rounds.reopen_cycle(session=s, workspace_id=org.workspace_id,
                            cycle=s.get_one(Cycle, org.objective.cycle_id),
                            today=date(2026, 3, 2), now=NOW, actor_id=None, actor_label="cli")
    recorded = requests.post(url, json={"value": 9}, headers=auth, timeout=10)
    assert recorded.status_code == 201
    with unit_of_work(container.session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Checkin)) == 1
