"""``okr tick``, ``okr deliveries`` and ``okr timeline`` from the command line (SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.bootstrap import Container
from app.cli import main
from app.commands.context import Obj
from app.db import make_engine, make_session_factory, unit_of_work
from app.migrate import upgrade
from app.models import Person
from scheduler.leases import WorkLeases
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import make_settings, seed


@pytest.fixture()
def obj(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Obj]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    seed(factory)
    o = Obj()
    o._container = Container(settings=make_settings(fake_slack), engine=engine,
                             session_factory=factory)
    yield o
    engine.dispose()


def run(obj: Obj, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=obj)
    return result.exit_code, result.output


def test_tick_deliveries_and_reasons(obj: Obj, fake_slack: FakeSlack) -> None:
    with unit_of_work(obj.container.session_factory) as s:
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        bob.away_until = date(2026, 3, 3)
    # The first tick ever looks back the grace window (6 h): Nuuk's and New York's 10:00.
    code, out = run(obj, "tick", "--at", "2026-03-02T16:00:00Z")
    assert code == 0 and "enqueued: prompt:pending 2" in out
    assert "sent:prompt 1" in out and "skipped 1" in out
    code, out = run(obj, "tick", "--at", "2026-03-02T16:00:00Z")
    assert "enqueued: nothing; delivered: nothing" in out  # idempotent
    code, out = run(obj, "deliveries", "--state", "skipped")
    assert code == 0
    assert "prompt   skipped  U0BOB        2026-03-02" in out and "local Mon 10:00  away" in out


def test_deliveries_show_where_a_prompt_moved_from_and_why(obj: Obj, fake_slack: FakeSlack
                                                          ) -> None:
    with unit_of_work(obj.container.session_factory) as s:
        ada = s.scalars(select(Person).where(Person.slack_id == "U0ADA")).one()
        ada.holiday_calendar = "DE-BY"
    # Easter Monday in Bavaria: Ada's prompt goes out on Tuesday at 10:00 Berlin.
    code, out = run(obj, "tick", "--at", "2026-04-06T12:00:00Z")
    code, out = run(obj, "tick", "--at", "2026-04-07T08:00:30Z")
    code, out = run(obj, "deliveries", "--kind", "prompt")
    assert code == 0
    (line,) = [ln for ln in out.splitlines() if "U0ADA" in ln]
    assert line.startswith("2026-04-07 08:00Z  prompt   sent     U0ADA        2026-04-06")
    assert line.endswith("local Tue 10:00  moved from Mon 6 Apr: Easter Monday")


def test_tick_leaves_a_workspace_a_running_replica_holds(obj: Obj,
                                                         fake_slack: FakeSlack) -> None:
    replica = WorkLeases(obj.container.session_factory, "replica-1", ttl_seconds=60)
    assert len(replica.acquire()) == 1
    code, out = run(obj, "tick", "--at", "2026-03-02T16:00:00Z")
    assert code == 0
    assert "enqueued: nothing; delivered: nothing; 1 workspace(s) left to other scheduler " \
        "processes" in out
    assert fake_slack.calls_to("chat.postMessage") == []
    replica.close()  # the replica stops: the next tick does the work
    code, out = run(obj, "tick", "--at", "2026-03-02T16:00:00Z")
    assert code == 0 and "sent:prompt 2" in out and "left to other" not in out


@pytest.mark.parametrize("bad", ["2026-03-02T16:00:00", "soon"])
def test_tick_refuses_an_unclear_instant(obj: Obj, bad: str) -> None:
    code, out = run(obj, "tick", "--at", bad)
    assert code == 2 and ("no UTC offset" in out or "not an ISO-8601" in out)


def test_timeline_commands(obj: Obj) -> None:
    code, out = run(obj, "timeline", "set", "gitlab-product")
    assert code == 0 and "timeline preset: gitlab-product" in out
    code, out = run(obj, "timeline", "add", "kickoff", "--anchor", "start", "--offset", "-10d",
                    "--audience", "team_leads", "--text", "Kick-off for {{ cycle }}")
    assert code == 0 and "10 days before the start, to team_leads" in out
    code, out = run(obj, "timeline", "add", "bad", "--offset", "soon", "--text", "x")
    assert code == 2 and "-2w" in out
    code, out = run(obj, "timeline", "add", "typo", "--text", "{{ cycel }}")
    assert code == 1 and "does not render" in out
    code, out = run(obj, "timeline", "remove", "nope")
    assert code == 1 and "no custom timeline rule 'nope'" in out
    code, out = run(obj, "timeline", "remove", "kickoff")
    assert code == 0
