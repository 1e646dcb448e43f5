"""Fixtures for Slack tests: the fake Slack Web API and a real Bolt app wired to it.

``slack`` is a :class:`Harness`: the app (``create_bolt_app``) on the test database (SQLite
and PostgreSQL, rolled back after each test), its WebClient pointed at the fake Slack, a
signer for requests and the standard organisation from tests/slack/seed.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.config import Settings
from app.models import Checkin, KeyResult
from app.slack import create_bolt_app, env_of, retry_handlers
from handlers.context import Env
from tests.fakeslack import FakeSlack, fake_slack
from tests.slack import seed
from tests.slack.blockkit import validate_ack, validate_message, validate_options
from tests.slackreq import SignedRequest, SlackRequests, json_body

__all__ = ["SECRET", "Harness", "fake_slack", "make_settings"]

SECRET = "test-signing-secret"


def make_settings(fake: FakeSlack, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url, "OKR_LISTENER_THREADS": 1,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Harness:
    app: App
    env: Env
    fake: FakeSlack
    req: SlackRequests
    session_factory: sessionmaker[Session]
    now: datetime
    org: seed.Org

    def send(self, request: SignedRequest) -> BoltResponse:
        """Dispatch, then wait for the work queued after the ack."""
        resp = request.dispatch(self.app)
        self.env.drain()
        check_ack(self.fake, resp)
        return resp

    def command(self, user: str, text: str, **kw: Any) -> tuple[BoltResponse, dict[str, Any]]:
        resp = self.send(self.req.command(user, text, **kw))
        return resp, json_body(resp)

    def session(self) -> Session:
        return self.session_factory()

    def checkins(self, kr_key: str | None = None) -> list[Checkin]:
        with self.session() as s:
            q = select(Checkin).join(KeyResult, KeyResult.id == Checkin.kr_id)
            if kr_key:
                q = q.where(KeyResult.key == kr_key)
            return list(s.scalars(q.order_by(Checkin.id)))


def check_ack(fake: FakeSlack, resp: BoltResponse) -> None:
    """Acks carry Block Kit too (command replies, modal updates, options): check them."""
    try:
        body = json_body(resp)
    except ValueError:
        return
    if "response_action" in body:
        problems = validate_ack(body)
    elif "options" in body or "option_groups" in body:
        problems = validate_options(body)
    elif "text" in body or "blocks" in body:
        problems = validate_message(body, where="ack")
    else:
        problems = []
    with fake.lock:
        fake.violations.extend(problems)


def build_harness(fake: FakeSlack, engine: Engine, factory: sessionmaker[Session], now: datetime,
                  **settings: Any) -> Harness:
    cfg = make_settings(fake, **settings)
    with factory() as s:
        org = seed.standard(s, now)
        s.commit()
    for sid, name in (("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy"), ("U0DEE", "Dee")):
        fake.add_user(sid, name=name)
    container = Container(settings=cfg, engine=engine, session_factory=factory)
    client = WebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=retry_handlers())
    app = create_bolt_app(cfg, container, client=client, clock=lambda: now)
    env_of(app).coalesce_delay = 0  # Home refreshes at once: tests read them right away
    return Harness(app=app, env=env_of(app), fake=fake,
                   req=SlackRequests(SECRET, response_base=fake.base_url),
                   session_factory=factory, now=now, org=org)


@pytest.fixture()
def rollback_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Like tests/conftest.py's ``session_factory``, but also isolating on SQLite.

    pysqlite does not begin a transaction before SAVEPOINT, so there a released savepoint
    commits for real; emitting BEGIN ourselves keeps everything inside the outer transaction.
    """
    conn = db_engine.connect()
    dbapi = conn.connection.dbapi_connection
    # Engines that already emit BEGIN themselves (isolation_level None) need no help.
    if db_engine.dialect.name == "sqlite" and dbapi.isolation_level is not None:  # type: ignore[union-attr]
        dbapi.isolation_level = None  # type: ignore[union-attr]
        conn.exec_driver_sql("BEGIN")
        outer = None
    else:
        outer = conn.begin()
    factory = sessionmaker(bind=conn, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
    try:
        yield factory
    finally:
        if outer is not None:
            outer.rollback()
        else:
            conn.exec_driver_sql("ROLLBACK")
            dbapi.isolation_level = ""  # type: ignore[union-attr]
        conn.close()


@pytest.fixture()
def slack(fake_slack: FakeSlack, db_engine: Engine, rollback_factory: sessionmaker[Session],
          now: datetime) -> Iterator[Harness]:
    harness = build_harness(fake_slack, db_engine, rollback_factory, now)
    try:
        yield harness
    finally:
        harness.env.drain()
        harness.env.executor.shutdown(wait=True)
