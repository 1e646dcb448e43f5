"""``okr token create --scope ... --expires ...`` and what ``okr token list`` shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.bootstrap import Container, bootstrap, utcnow
from app.cli import main
from app.config import Settings
from app.db import unit_of_work
from app.models import ApiToken
from tests.fixtures.web import seed


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    container = bootstrap(Settings(), migrate=True)
    with unit_of_work(container.session_factory) as s:
        seed(s, datetime(2026, 3, 2, tzinfo=UTC))
    yield container
    container.close()


def _rows(container: Container) -> dict[str, ApiToken]:
    with unit_of_work(container.session_factory) as s:
        rows = {t.name: t for t in s.scalars(select(ApiToken))}
        s.expunge_all()
    return rows


def test_scopes_and_expiry_are_stored_and_listed(cli_env: Container) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "ci", "--scope", "read", "--scope",
                                "checkin", "--expires", "90d"])
    assert made.exit_code == 0, made.output
    assert "scopes read checkin, expires" in made.stderr
    bi = runner.invoke(main, ["token", "create", "bi", "--scope", "read:private",
                              "--expires", "2030-03-01"])
    assert bi.exit_code == 0, bi.output
    plain = runner.invoke(main, ["token", "create", "plain"])
    assert "scopes read checkin, does not expire" in plain.stderr
    rows = _rows(cli_env)
    assert rows["ci"].scopes == "read checkin"
    ci_expiry = rows["ci"].expires_at
    assert ci_expiry is not None and abs(
        ci_expiry - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    assert rows["bi"].scopes == "read read:private"
    assert rows["bi"].expires_at == datetime(2030, 3, 1, tzinfo=UTC)
    assert rows["plain"].expires_at is None
    with unit_of_work(cli_env.session_factory) as s:  # a token made before scopes existed
        s.scalars(select(ApiToken).where(ApiToken.name == "plain")).one().scopes = None
    listed = runner.invoke(main, ["token", "list"]).stdout
    lines = {line.split()[2]: line for line in listed.splitlines()}
    assert "[read checkin]" in lines["ci"] and "expires" in lines["ci"]
    assert "[read read:private]" in lines["bi"] and "expires 2030-03-01" in lines["bi"]
    assert "[read checkin] (made before scopes)" in lines["plain"]


def test_expired_tokens_are_marked(cli_env: Container) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["token", "create", "old", "--expires", "1d"]).exit_code == 0
    with unit_of_work(cli_env.session_factory) as s:
        s.scalars(select(ApiToken)).one().expires_at = utcnow() - timedelta(days=1)
    assert "EXPIRED" in runner.invoke(main, ["token", "list"]).stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--scope", "write"], "unknown scope 'write': scopes are read, checkin, read:private"),
    (["--expires", "2020-01-01"], "the expiry is in the past"),
    (["--expires", "soon"], "write a number of days (90d) or a date (2027-03-01)"),
    (["--expires", "99999d"], "at most 3650 days"),
])
def test_bad_scope_or_expiry_is_one_line_and_creates_nothing(cli_env: Container,
                                                             args: list[str],
                                                             words: str) -> None:
    result = CliRunner().invoke(main, ["token", "create", "x", *args])
    assert result.exit_code != 0 and words in result.stderr
    assert "Traceback" not in result.output
    assert _rows(cli_env) == {}
