"""The directory sync: users.list (every page) into people; a person's own settings kept;
a failed read changes nothing; the daily run happens once however many ticks race."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_session_factory, unit_of_work
from app.models import AuditEntry, Person, Workspace
from app.services.tenancy import directory, people, workspaces
from scheduler.jobs import tick
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import clients, make_settings
from tests.slack import fakemethods


def directory_of(fake: FakeSlack) -> None:
    fake.add_user("U0ADA", name="Ada Lovelace", tz="Europe/London", email="ada@example.com",
                  profile={"display_name": "ada", "real_name": "Ada Lovelace",
                           "email": "ada@example.com"})
    fake.add_user("U0BOB", name="Bob", tz="America/New_York", email="bob@example.com")
    fake.add_user("U0CY", name="Cy", tz="Asia/Tokyo", email="cy@example.com")
    fake.add_user("U0DEE", name="Dee", tz="Not/AZone")
    fake.add_user("U0EVE", name="Eve", tz="Europe/Paris", email="eve@example.com")
    fake.add_user("B0HELPER", name="Deploy bot", is_bot=True)
    fake.add_user("U0GONE", name="Gone", deleted=True)


@pytest.fixture()
def ws_id(session_factory: sessionmaker[Session], now: datetime) -> int:
    with unit_of_work(session_factory) as s:
        ws = workspaces.default_workspace(session=s, now=now)
        ws.slack_team_id = "T0TEST"
        return ws.id


def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.api_url)


def person(factory: sessionmaker[Session], slack_id: str) -> Person | None:
    with factory() as s:
        return s.scalars(select(Person).where(Person.slack_id == slack_id)).first()


def test_every_page_is_read_bots_and_slackbot_left_out(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, ws_id: int,
        now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    directory_of(fake_slack)
    monkeypatch.setattr(directory, "PAGE_SIZE", 3)  # 8 accounts (Slackbot too): 3 pages
    counts = directory.sync(factory=session_factory, workspace_id=ws_id,
                            client=client(fake_slack), now=now)
    calls = fake_slack.calls_to("users.list")
    assert len(calls) == 3
    assert [c.params.get("cursor") for c in calls] == [None, "dXNlcjo3", "dXNlcjo6"]
    assert all(c.params.get("limit") == "3" for c in calls)
    assert (counts.added, counts.skipped_bots, counts.skipped_deactivated) == (5, 2, 1)
    ada = person(session_factory, "U0ADA")
    assert ada is not None
    assert (ada.name, ada.display_name, ada.tz, ada.email, ada.active) == (
        "Ada Lovelace", "ada", "Europe/London", "ada@example.com", True)
    dee = person(session_factory, "U0DEE")
    assert dee is not None and dee.tz == "UTC"  # a zone Slack sent that we cannot use
    for absent in ("B0HELPER", "USLACKBOT", "U0GONE"):
        assert person(session_factory, absent) is None
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "people.sync")).one()
        assert entry.after["added"] == 5
        synced = s.get(Workspace, ws_id)
        assert synced is not None and synced.directory_synced_at is not None
    again = directory.sync(factory=session_factory, workspace_id=ws_id,
                           client=client(fake_slack), now=now)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)


def test_own_settings_survive_and_slack_owns_the_rest(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, ws_id: int,
        now: datetime) -> None:
    directory_of(fake_slack)
    directory.sync(factory=session_factory, workspace_id=ws_id, client=client(fake_slack),
                   now=now)
    schedule = {"day": "fri", "time": "16:00"}
    with unit_of_work(session_factory) as s:
        rows = {p.slack_id: p for p in s.scalars(select(Person))}
        people.set_own_tz(session=s, person=rows["U0ADA"], tz="America/Chicago", now=now)
        rows["U0ADA"].checkin_schedule = schedule
        rows["U0ADA"].away_until = date(2026, 3, 20)
        rows["U0ADA"].is_admin = True
        rows["U0CY"].active = False  # an operator took Cy out of the check-ins
    fake_slack.users["U0ADA"].update(tz="Asia/Kolkata", real_name="Ada King")
    fake_slack.users["U0ADA"]["profile"].update(real_name="Ada King", email="ada@king.example")
    fake_slack.users["U0BOB"].update(tz="Europe/Rome", deleted=True)
    counts = directory.sync(factory=session_factory, workspace_id=ws_id,
                            client=client(fake_slack), now=now)
    assert (counts.updated, counts.deactivated) == (1, 1)
    ada, bob, cy = (person(session_factory, i) for i in ("U0ADA", "U0BOB", "U0CY"))
    assert ada is not None and bob is not None and cy is not None
    assert (ada.tz, ada.tz_source) == ("America/Chicago", "person")
    assert (ada.checkin_schedule, ada.away_until, ada.is_admin) == (
        schedule, date(2026, 3, 20), True)
    assert (ada.name, ada.email) == ("Ada King", "ada@king.example")
    assert (bob.active, bob.tz, bob.deactivated_in_slack) == (False, "Europe/Rome", True)
    assert cy.active is False  # Slack says Cy is active: the operator's choice stays
    fake_slack.users["U0BOB"]["deleted"] = False
    back = directory.sync(factory=session_factory, workspace_id=ws_id,
                          client=client(fake_slack), now=now)
    bob = person(session_factory, "U0BOB")
    assert back.reactivated == 1 and bob is not None and bob.active is True


def test_rate_limit_is_waited_out_and_a_failed_read_changes_nothing(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, ws_id: int,
        now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    directory_of(fake_slack)
    monkeypatch.setattr(directory, "PAGE_SIZE", 3)
    fake_slack.rate_limit_next("users.list", count=1, retry_after=1)
    counts = directory.sync(factory=session_factory, workspace_id=ws_id,
                            client=client(fake_slack), now=now)
    assert counts.added == 5  # the 429 was retried after Retry-After
    assert len(fake_slack.calls_to("users.list")) == 3
    with unit_of_work(session_factory) as s:
        for p in s.scalars(select(Person)):
            s.delete(p)

    def first_page_only(p: dict[str, Any]) -> dict[str, Any]:
        if p.get("cursor"):
            return {"ok": False, "error": "internal_error"}
        return fakemethods.users_list(fake_slack, p)

    fake_slack.on("users.list", first_page_only)
    with pytest.raises(SlackApiError):
        directory.sync(factory=session_factory, workspace_id=ws_id, client=client(fake_slack),
                       now=now)
    with session_factory() as s:
        assert s.scalars(select(Person)).first() is None  # nothing of the first page


@pytest.mark.parametrize("fresh_engine", ["postgresql"], indirect=True)
def test_daily_sync_runs_once_for_concurrent_ticks(fresh_engine: Engine,
                                                  fake_slack: FakeSlack, now: datetime) -> None:
    directory_of(fake_slack)
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as s:
        ws = workspaces.default_workspace(session=s, now=now)
        ws.slack_team_id = "T0TEST"
    settings = make_settings(fake_slack)
    url = fresh_engine.url.render_as_string(hide_password=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(at: datetime) -> None:
        engine = make_engine(url)
        try:
            barrier.wait(5)
            tick(make_session_factory(engine), settings, at, client_for=clients(settings),
                 deliver=False)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(now,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(fake_slack.calls_to("users.list")) == 1
    with factory() as s:
        assert len(s.scalars(select(Person)).all()) == 5
        assert len(s.scalars(select(AuditEntry).where(
            AuditEntry.action == "people.sync")).all()) == 1
    threads = [threading.Thread(target=run, args=(now + timedelta(hours=3),))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(fake_slack.calls_to("users.list")) == 1  # not again the same day
    threads = [threading.Thread(target=run, args=(now + timedelta(days=1),))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(fake_slack.calls_to("users.list")) == 2  # the next day, once


def test_unbound_workspace_is_not_synced_by_the_tick(
        session_factory: sessionmaker[Session], fake_slack: FakeSlack, now: datetime) -> None:
    """A shared bot token never fills a workspace that is not bound to its Slack team."""
    directory_of(fake_slack)
    with unit_of_work(session_factory) as s:
        workspaces.default_workspace(session=s, now=now)
    settings = make_settings(fake_slack)
    done = directory.sync_due(session_factory, now, clients(settings))
    assert done == {} and fake_slack.calls_to("users.list") == []


@pytest.mark.parametrize("fresh_engine", ["sqlite", "postgresql"], indirect=True)
def test_a_person_someone_else_added_meanwhile_is_the_one_returned(
        fresh_engine: Engine, now: datetime) -> None:
    # A directory sync and the new user's first command both add them: the second add finds
    # the first one's row instead of failing on the unique Slack id.
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as s:
        ws_id = workspaces.default_workspace(session=s, now=now).id
    ada = people.SlackUser.of({"id": "U0ADA", "name": "Ada"})
    with unit_of_work(factory) as s:
        first = people.add(session=s, workspace_id=ws_id, user=ada, now=now).id
    with unit_of_work(factory) as s:
        workspace = s.get(Workspace, ws_id)
        assert workspace is not None
        workspace.name = "renamed before the add"
        again = people.add(session=s, workspace_id=ws_id, user=ada, now=now)
        assert again.id == first
    with factory() as s:
        assert s.scalars(select(Person.id).where(Person.slack_id == "U0ADA")).all() == [first]
        # The rest of the transaction went through.
        assert s.scalars(select(Workspace.name)).all() == ["renamed before the add"]
