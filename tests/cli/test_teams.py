"""``okr team add|remove|lead|sync``: team members from the command line, audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from app.bootstrap import Container, bootstrap
from app.cli import main
from app.config import Settings
from app.db import unit_of_work
from app.models import AuditEntry, KeyResult, Person, Team, TeamMember
from tests.fakeslack import FakeSlack
from tests.slack import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            fake_slack: FakeSlack) -> Iterator[Container]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    container = bootstrap(Settings(), migrate=True)
    with unit_of_work(container.session_factory) as s:
        seed.standard(s, NOW)
    yield container
    container.close()


def members(container: Container, team: str = "eng") -> list[str]:
    with unit_of_work(container.session_factory) as s:
        return sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.key == team)))


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, list(args))
    return done.exit_code, done.output


def test_add_remove_lead(cli_env: Container) -> None:
    assert run("team", "add", "U0DEE", "U0NEW", "eng", "--workspace", "T0TEST") == (
        0, "eng: added: U0DEE\neng: not known here: U0NEW\n")
    assert run("team", "remove", "U0BOB", "eng") == (0, "eng: removed: U0BOB\n")
    code, out = run("team", "lead", "U0CY", "Engineering")
    assert code == 0 and "eng: lead is now U0CY" in out
    assert members(cli_env) == ["U0ADA", "U0CY", "U0DEE"]
    with unit_of_work(cli_env.session_factory) as s:
        rows = s.execute(select(AuditEntry.action, AuditEntry.actor_label).where(
            AuditEntry.action.like("team.%")).order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [("team.add", "cli"), ("team.remove", "cli"),
                                        ("team.lead", "cli")]


def test_bad_input_is_one_line(cli_env: Container) -> None:
    code, out = run("team", "add", "eng")
    assert code == 2 and "give one or more Slack user ids" in out
    code, out = run("team", "add", "U0DEE", "nope")
    assert code == 1 and "no team 'nope'" in out and "Traceback" not in out
    code, out = run("team", "lead", "U0ZED", "eng")
    assert code == 1 and "not known here yet" in out
    assert members(cli_env) == ["U0ADA", "U0BOB", "U0CY"]


def test_sync_follows_the_channel(cli_env: Container, fake_slack: FakeSlack) -> None:
    assert run("team", "sync") == (0, "no team follows Slack here (or no Slack token)\n")
    with unit_of_work(cli_env.session_factory) as s:
        s.execute(update(Team).where(Team.key == "eng").values(members_from={"channel": "C0ENG"}))
    fake_slack.channel_members["C0ENG"] = ["U0ADA", "U0DEE", "U0BOT"]
    assert run("team", "sync", "--workspace", "T0TEST") == (
        0, "1 teams: 1 added, 2 removed, 1 not known here yet\n")
    assert members(cli_env) == ["U0ADA", "U0DEE"]


def test_people_sync_refreshes_the_teams_that_follow_slack(cli_env: Container,
                                                           fake_slack: FakeSlack) -> None:
    """Cy left the channel and no event came: ``okr people sync`` takes them off the team,
    and their key result stays theirs."""
    for slack_id, name in (("U0ADA", "Ada"), ("U0BOB", "Bob"), ("U0CY", "Cy"), ("U0DEE", "Dee")):
        fake_slack.add_user(slack_id, name=name)
    with unit_of_work(cli_env.session_factory) as s:
        s.execute(update(Team).where(Team.key == "eng").values(members_from={"channel": "C0ENG"}))
    fake_slack.channel_members["C0ENG"] = ["U0ADA", "U0BOB"]
    code, out = run("people", "sync")
    assert code == 0, out
    assert "teams following Slack: 1 refreshed, 0 members added, 1 removed" in out
    assert members(cli_env) == ["U0ADA", "U0BOB"]
    with unit_of_work(cli_env.session_factory) as s:
        owner = s.scalar(select(Person.slack_id).join(KeyResult, KeyResult.owner_id == Person.id)
                         .where(KeyResult.key == "kr-cy"))
        removed = s.scalars(select(AuditEntry.actor_label).where(
            AuditEntry.action == "team.remove")).all()
    assert owner == "U0CY" and removed == ["slack-sync"]


def test_people_sync_says_which_team_slack_would_not_list(cli_env: Container,
                                                         fake_slack: FakeSlack) -> None:
    with unit_of_work(cli_env.session_factory) as s:
        s.execute(update(Team).where(Team.key == "eng").values(members_from={"channel": "C0GONE"}))
    code, out = run("people", "sync")
    assert code == 0 and "eng: Slack would not list its members" in out
    assert members(cli_env) == ["U0ADA", "U0BOB", "U0CY"]
