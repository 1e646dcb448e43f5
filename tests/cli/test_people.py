"""``okr people sync``: the directory read now, with counts; a refusal changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.cli import main
from tests.fakeslack import FakeSlack


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "OKR_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    url = f"sqlite:///{tmp_path / 'okr.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    fake_slack.add_user("U0ADA", name="Ada", tz="Europe/London", email="ada@example.com")
    fake_slack.add_user("U0BOB", name="Bob", tz="Asia/Tokyo")
    fake_slack.add_user("B0BOT2", name="Helper", is_bot=True)
    fake_slack.add_user("U0OLD", name="Old", deleted=True)
    return url


def people(url: str) -> list[tuple[str, str, int]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT slack_id, tz, active FROM people ORDER BY slack_id"))
        found = [(r[0], r[1], int(r[2])) for r in rows]
    engine.dispose()
    return found


def test_people_sync_prints_counts(cli_env: str, fake_slack: FakeSlack) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["people", "sync"])
    assert result.exit_code == 0, result.output
    assert ("2 added, 0 updated, 0 deactivated, 0 reactivated, 0 unchanged; skipped 2 bots "
            "and 1 deactivated accounts") in result.output
    assert people(cli_env) == [("U0ADA", "Europe/London", 1), ("U0BOB", "Asia/Tokyo", 1)]
    fake_slack.users["U0BOB"]["deleted"] = True
    again = runner.invoke(main, ["people", "sync"])
    assert "0 added, 0 updated, 1 deactivated, 0 reactivated, 1 unchanged" in again.output
    assert people(cli_env)[1] == ("U0BOB", "Asia/Tokyo", 0)


def test_people_sync_refused_changes_nothing(cli_env: str, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("users.list", "missing_scope")
    result = CliRunner().invoke(main, ["people", "sync"])
    assert result.exit_code == 1
    assert "Slack refused users.list (missing_scope): reinstall the app" in result.output
    assert "Traceback" not in result.output
    assert people(cli_env) == []
    unknown = CliRunner().invoke(main, ["people", "sync", "--workspace", "nope"])
    assert unknown.exit_code == 1 and "no workspace 'nope'" in unknown.output
