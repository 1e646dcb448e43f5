"""From install to the first check-in prompt without an import file, through the real Bolt app
and the fake Slack: an empty database, one bot token, the admin named by OKR_ADMINS.

The admin opens App Home and follows its first-run checklist (create the current cycle from
the fiscal calendar, create a team from a channel, invite the bot, send a test prompt), creates
an objective with ``/okr new``, and the scheduler's tick at their check-in time DMs the prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.models import AuditEntry, Cycle, Delivery, Objective, Team, Workspace
from app.slack import create_bolt_app, env_of, retry_handlers
from blocks.home_setup import TEST_MARK
from blocks.ids import Action, Block
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock
from tests.fixtures.slack import SECRET, check_ack, make_settings
from tests.slack.state import submitted_values
from tests.slackreq import SlackRequests, json_body

ADMIN, MEMBER = "U0ANN", "U0MAX"


class FirstRun:
    def __init__(self, fake: FakeSlack, engine: Engine, factory: sessionmaker[Session],
                 now: datetime) -> None:
        self.fake, self.factory, self.now = fake, factory, now
        self.settings = make_settings(fake, OKR_ADMINS=ADMIN)
        container = Container(settings=self.settings, engine=engine, session_factory=factory)
        client = WebClient(token="xoxb-test", base_url=fake.api_url,
                           retry_handlers=retry_handlers())
        self.app = create_bolt_app(self.settings, container, client=client, clock=lambda: now)
        self.env = env_of(self.app)
        self.env.coalesce_delay = 0
        self.req = SlackRequests(SECRET, response_base=fake.base_url)

    def send(self, request: Any) -> Any:
        resp = request.dispatch(self.app)
        self.env.drain()
        check_ack(self.fake, resp)
        return resp

    def open_home(self, user: str) -> dict[str, Any]:
        self.send(self.req.event({"type": "app_home_opened", "user": user, "tab": "home"}))
        home = self.fake.home(user)
        assert home is not None
        return home

    def click(self, user: str, action: Action, home: dict[str, Any]) -> None:
        button = find_button(home, action)
        self.send(self.req.button(user, action, button.get("value", ""), view=home))


def find_button(view: dict[str, Any], action: Action) -> dict[str, Any]:
    for block in view["blocks"]:
        for el in [block.get("accessory") or {}, *block.get("elements", [])]:
            if el.get("action_id") == str(action):
                return dict(el)
    raise AssertionError(f"no {action} button")


def has_button(view: dict[str, Any], action: Action) -> bool:
    try:
        find_button(view, action)
    except AssertionError:
        return False
    return True


def text_of(view: dict[str, Any]) -> str:
    return str(view["blocks"])


@pytest.fixture()
def first_run(fake_slack: FakeSlack, db_engine: Engine,
              rollback_factory: sessionmaker[Session], now: datetime) -> Iterator[FirstRun]:
    fake_slack.add_user(ADMIN, name="Ann Admin")
    fake_slack.add_user(MEMBER, name="Max Member")
    run = FirstRun(fake_slack, db_engine, rollback_factory, now)
    try:
        yield run
    finally:
        run.env.drain()
        run.env.executor.shutdown(wait=True)


def test_install_to_first_prompt(first_run: FirstRun) -> None:
    h = first_run
    with h.factory() as s:
        assert s.scalar(select(func.count()).select_from(Workspace)) == 0

    # A member sees whom to ask; the admin sees the checklist.
    member_home = h.open_home(MEMBER)
    assert f"<@{ADMIN}>" in text_of(member_home)
    assert not has_button(member_home, Action.SETUP_CYCLE)
    home = h.open_home(ADMIN)
    assert "Set up OKRs" in text_of(home)

    # 1. The current cycle from the fiscal calendar (a January start: FY26-Q1 on 2 Mar 2026).
    h.click(ADMIN, Action.SETUP_CYCLE, home)
    with h.factory() as s:
        cycle = s.scalars(select(Cycle)).one()
        assert (cycle.name, cycle.start_date.isoformat(), cycle.end_date.isoformat(),
                cycle.phase) == ("FY26-Q1", "2026-01-01", "2026-03-31", "active")
    home = h.fake.home(ADMIN)
    assert home is not None and "The current cycle is *FY26-Q1*" in text_of(home)
    assert not has_button(home, Action.SETUP_CYCLE)

    # 4. A test prompt to yourself: marked, no buttons, nothing recorded but the audit line.
    h.click(ADMIN, Action.SETUP_TEST_PROMPT, home)
    (test_dm,) = [c.params for c in h.fake.calls_to("chat.postMessage")
                  if c.params.get("channel") == ADMIN]
    assert TEST_MARK in str(test_dm["blocks"]) and "time for your check-in" in test_dm["text"]
    assert not [b for b in test_dm["blocks"] if b["type"] == "actions"]
    with h.factory() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 0

    # 2. A team from a channel: the modal, then the team with that channel for its digests.
    h.click(ADMIN, Action.SETUP_NEW_TEAM, home)
    modal = h.fake.last_view()
    assert modal is not None
    values = submitted_values(modal, {
        str(Block.SETUP_TEAM_NAME): "Platform",
        str(Block.SETUP_TEAM_CHANNEL): {"selected_conversation": "C0PLAT"}})
    resp = h.send(h.req.view_submission(ADMIN, modal, values))
    body = json_body(resp)
    assert body["response_action"] == "update"
    assert "`/invite @okr`" in str(body["view"])  # 3. the bot is not in the channel yet
    with h.factory() as s:
        team = s.scalars(select(Team)).one()
        assert (team.key, team.name, team.channel_id) == ("platform", "Platform", "C0PLAT")
        actions = set(s.scalars(select(AuditEntry.action)))
        assert {"cycle.create", "team.create", "setup.test_prompt"} <= actions

    # With a cycle and a team the checklist is gone.
    home = h.open_home(ADMIN)
    assert "Set up OKRs" not in text_of(home)

    # The admin's objective with a KR they own, through the existing /okr new modal.
    h.send(h.req.command(ADMIN, "new"))
    form = h.fake.last_view()
    assert form is not None
    values = submitted_values(form, {
        "obj_title": "Ship the platform", "obj_team": "platform", "kr_title:0": "Onboard 5 teams",
        "kr_type:0": "increase", "kr_start:0": "0", "kr_target:0": "5"})
    resp = h.send(h.req.view_submission(ADMIN, form, values))
    assert json_body(resp)["response_action"] == "update"
    with h.factory() as s:
        assert s.scalars(select(Objective.key)).all() == ["ship-the-platform"]

    # The scheduler's tick at the admin's check-in time (Monday 10:00 in Berlin) DMs the prompt.
    Clock(h.factory, make_settings(h.fake, OKR_ADMINS=ADMIN)).tick(h.now + timedelta(minutes=1))
    prompts = [c.params for c in h.fake.calls_to("chat.postMessage")
               if c.params.get("channel") == ADMIN and TEST_MARK not in str(c.params)]
    (prompt,) = prompts
    assert "Onboard 5 teams" in str(prompt["blocks"])
    assert [b for b in prompt["blocks"] if b["type"] == "actions"]
    with h.factory() as s:
        assert s.scalars(select(Delivery.kind).where(Delivery.target == ADMIN)).all() == [
            "prompt"]
    h.fake.assert_no_violations()
