"""Fixtures for scheduler tests: a small organisation spread over awkward time zones, and a
fake Slack (tests/fakeslack.py) to deliver to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import unit_of_work
from app.services import imports, workspaces
from scheduler.clients import make_client
from scheduler.delivery import ClientFor
from scheduler.jobs import TickResult, tick
from scheduler.pacing import Pacer
from tests.fakeslack import FakeSlack, fake_slack

__all__ = ["fake_slack"]

IMPORTED_AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

ORG = """
settings: {timezone: Europe/Berlin, timeline: okr-cycle, holidays: DE, fiscal_year_start_month: 2}
cycles:
  - {name: FY27-Q1, start: 2026-02-01, end: 2026-04-30, phase: active}
people:
  - {slack_id: U0ADA, name: Ada Lovelace, tz: Europe/Berlin}
  - {slack_id: U0BOB, name: Bob Noyce, tz: America/New_York}
  - {slack_id: U0CAT, name: Cat Howe, tz: Australia/Lord_Howe}
  - {slack_id: U0DEV, name: Dev Rana, tz: Asia/Kathmandu}
  - {slack_id: U0EVE, name: Eve Nuuk, tz: America/Nuuk}
  - {slack_id: U0FAY, name: Fay Idle, tz: Europe/Berlin}
teams:
  - {id: company, name: Acme, kind: company, lead: U0ADA, channel: C0ALL,
     members: [U0ADA, U0BOB, U0CAT, U0DEV, U0EVE, U0FAY]}
  - {id: eng, name: Engineering, parent: company, lead: U0BOB, channel: C0ENG,
     members: [U0BOB, U0CAT, U0DEV, U0EVE]}
objectives:
  - id: growth
    cycle: FY27-Q1
    team: company
    owner: U0ADA
    title: Grow the business
    key_results:
      - {id: kr-rev, title: Revenue from 100 to 200, owner: U0ADA, start: 100, target: 200}
  - id: onboarding
    cycle: FY27-Q1
    team: eng
    owner: U0BOB
    aligned_to: growth
    title: Deliver an exceptional onboarding
    key_results:
      - {id: kr-ttv, title: Time to first value from 14 to 5 days, owner: U0BOB,
         start: 14, target: 5, unit: days}
      - {id: kr-walk, title: Ship the guided walkthrough, owner: U0CAT, type: milestone}
      - {id: kr-nps, title: NPS from 32 to 50, owner: U0DEV, start: 32, target: 50}
      - {id: kr-docs, title: Docs coverage to 90 percent, owner: U0EVE, type: percent}
"""


def make_settings(fake: FakeSlack | None = None, **extra: Any) -> Settings:
    values: dict[str, Any] = {"SLACK_BOT_TOKEN": "xoxb-test",
                              "SLACK_API_URL": fake.api_url if fake else "http://127.0.0.1:9/"}
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def seed(factory: sessionmaker[Session], text: str = ORG, now: datetime = IMPORTED_AT) -> int:
    with unit_of_work(factory) as s:
        ws = workspaces.default_workspace(session=s, now=now)
        imports.import_text(session=s, workspace=ws, text=text, now=now)
        return ws.id


def clients(settings: Settings) -> ClientFor:
    client = make_client(settings, settings.slack_bot_token or "xoxb-test")
    return lambda _ws: client


class Clock:
    """Runs ticks against one database and fake Slack; fast pacing for tests."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self.client_for = clients(settings)
        self.pacer = Pacer(1000.0, 1000.0)

    def tick(self, at: datetime | str, **kw: Any) -> TickResult:
        now = datetime.fromisoformat(at) if isinstance(at, str) else at
        kw.setdefault("threads", 1)
        kw.setdefault("budget_seconds", 30)
        return tick(self.factory, self.settings, now, client_for=self.client_for,
                    pacer=self.pacer, worker_id="test", **kw)


@pytest.fixture()
def org(session_factory: sessionmaker[Session]) -> int:
    return seed(session_factory)


@pytest.fixture()
def clock(session_factory: sessionmaker[Session], fake_slack: FakeSlack,
          org: int) -> Iterator[Clock]:
    yield Clock(session_factory, make_settings(fake_slack))


def posts(fake: FakeSlack, channel: str | None = None) -> list[dict[str, Any]]:
    """Successful chat.postMessage params, optionally to one channel/user."""
    return [c.params for c in fake.calls_to("chat.postMessage")
            if c.response.get("ok") and (channel is None or c.params.get("channel") == channel)]
