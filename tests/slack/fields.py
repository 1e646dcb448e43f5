"""A Slack harness whose check-in modal asks every field (``OKR_CHECKIN_FIELDS``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.fakeslack import FakeSlack
from tests.fixtures.slack import Harness, build_harness

ALL_FIELDS = "value,status,note,confidence,blockers"


@pytest.fixture()
def slack_all_fields(fake_slack: FakeSlack, db_engine: Engine,
                     rollback_factory: sessionmaker[Session], now: datetime) -> Iterator[Harness]:
    harness = build_harness(fake_slack, db_engine, rollback_factory, now,
                            OKR_CHECKIN_FIELDS=ALL_FIELDS)
    try:
        yield harness
    finally:
        harness.env.drain()
        harness.env.executor.shutdown(wait=True)
