"""``okr secrets rotate``, ``okr person erase``, and OAuth refusing to run without a key."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import select, text

from app.bootstrap import Container, bootstrap
from app.cli import main
from app.config import Settings
from app.db import unit_of_work
from app.models import Checkin, Person
from app.services.tenancy import retention
from app.services.tenancy.installations import EncryptedInstallationStore, installation_store
from app.services.tenancy.secrets import PREFIX, SecretKeyMissing, TokenCipher
from tests.slack import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OAUTH = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "shh", "SLACK_SIGNING_SECRET": "s"}


@pytest.fixture()
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in ("SLACK_BOT_TOKEN", "OKR_SECRET_KEY", "OKR_SECRET_KEY_OLD", *OAUTH):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'okr.db'}")
    container = bootstrap(Settings(), migrate=True)
    yield container
    container.close()


def stored(container: Container) -> list[str]:
    with container.engine.connect() as conn:
        return [v for table in ("slack_installations", "slack_bots") for row in conn.execute(
            text(f"SELECT bot_token, bot_refresh_token FROM {table}")) for v in row if v]


def install(container: Container, cipher: TokenCipher, team: str) -> None:
    EncryptedInstallationStore("1.2", container.engine, cipher).save(Installation(
        app_id="A0", enterprise_id=None, team_id=team, user_id="U0ADA", bot_id="B0",
        bot_token=f"xoxb-{team}", bot_refresh_token=f"xoxe-1-{team}", bot_user_id="U0BOT"))


def test_rotate_re_encrypts_every_token_with_the_new_key(
        cli_env: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    install(cli_env, TokenCipher("old key"), "T0OLD")
    install(cli_env, TokenCipher("older key"), "T0OLDER")
    install(cli_env, TokenCipher(None), "T0CLEAR")  # written before any key was set
    runner = CliRunner()
    monkeypatch.setenv("OKR_SECRET_KEY", "new key")
    refused = runner.invoke(main, ["secrets", "rotate"])  # old keys not given: nothing changes
    assert refused.exit_code == 1 and "OKR_SECRET_KEY_OLD" in refused.output
    assert "nothing was changed" in refused.output and "Traceback" not in refused.output
    assert sum(not v.startswith(PREFIX) for v in stored(cli_env)) == 4

    monkeypatch.setenv("OKR_SECRET_KEY_OLD", "old key, older key")
    done = runner.invoke(main, ["secrets", "rotate"])
    assert done.exit_code == 0, done.output
    assert "slack_bots: 4 re-encrypted, 2 encrypted from clear text, 0 already current" \
        in done.output
    new_only = TokenCipher("new key")
    values = stored(cli_env)
    assert len(values) == 12 and all(new_only.is_current(v) for v in values)
    assert sorted(str(new_only.decrypt(v)) for v in values)[:2] == ["xoxb-T0CLEAR"] * 2
    again = runner.invoke(main, ["secrets", "rotate"])
    assert "done: 0 secrets rewritten" in again.output
    assert "slack_installations: 0 re-encrypted, 0 encrypted from clear text, 6 already " \
        "current" in again.output


def test_cipher_reads_old_keys_and_writes_the_current_one() -> None:
    old = TokenCipher("k1").encrypt("xoxe-1-refresh")
    assert old is not None
    both = TokenCipher("k2", ["k1"])
    assert both.decrypt(old) == "xoxe-1-refresh" and not both.is_current(old)
    rotated = both.rotate(old)
    assert rotated is not None and both.is_current(rotated) and both.rotate(rotated) == rotated
    assert TokenCipher("k2").decrypt(rotated) == "xoxe-1-refresh"
    with pytest.raises(RuntimeError, match="OKR_SECRET_KEY_OLD"):
        TokenCipher("k2").decrypt(old)


def test_installation_store_refuses_to_exist_without_a_key(cli_env: Container) -> None:
    settings = Settings(_env_file=None, **OAUTH)  # type: ignore[call-arg]
    with pytest.raises(SecretKeyMissing, match="OKR_SECRET_KEY is required"):
        installation_store(settings, cli_env.engine)


def test_oauth_serve_without_a_key_exits_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OKR_"))}
    env.update(OAUTH, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    okr = str(Path(sys.executable).parent / "okr")
    for args in (["serve", "--port", "1"], ["worker"], ["tick"]):
        proc = subprocess.run([okr, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode != 0, args
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "OKR_SECRET_KEY is required" in lines[0], proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "x.db").exists()  # refused before touching the database


def test_person_erase_from_the_cli(cli_env: Container) -> None:
    with unit_of_work(cli_env.session_factory) as s:
        org = seed.standard(s, NOW)
        bob = org.people["U0BOB"]
        s.add(Checkin(workspace_id=org.workspace.id, kr_id=org.krs["kr-inc"].id,
                      author_id=bob.id, at=NOW, value=20.0, note="mine", source="cli"))
        bob_id = bob.id
    runner = CliRunner()
    done = runner.invoke(main, ["person", "erase", "U0BOB", "--workspace", "T0TEST", "--notes"])
    assert done.exit_code == 0, done.output
    assert "erased: now erased-" in done.output and "checkin notes 1" in done.output
    with unit_of_work(cli_env.session_factory) as s:
        person = s.get(Person, bob_id)
        assert person is not None and person.name == "Erased person"
        assert s.scalars(select(Checkin.value).where(Checkin.author_id == bob_id)).all() == [20.0]
    again = runner.invoke(main, ["person", "erase", "U0BOB", "--workspace", "T0TEST"])
    assert again.exit_code == 1 and "no person 'U0BOB'" in again.output


def test_workspace_enable_cancels_the_purge(cli_env: Container) -> None:
    with unit_of_work(cli_env.session_factory) as s:
        ws_id = seed.standard(s, NOW).workspace.id
    runner = CliRunner()
    assert "is not disabled" in runner.invoke(main, ["workspace", "enable"]).output
    with unit_of_work(cli_env.session_factory) as s:
        retention.disable(session=s, workspace_id=ws_id, now=datetime.now(UTC),
                          retention_days=30)
    assert "nothing to purge" in runner.invoke(main, ["workspace", "purge"]).output
    not_due = runner.invoke(main, ["workspace", "purge", "--workspace", "T0TEST"])
    assert "retention period is not over" in not_due.output
    done = runner.invoke(main, ["workspace", "enable", "--workspace", "T0TEST"])
    assert done.exit_code == 0 and "enabled, purge cancelled" in done.output
    with unit_of_work(cli_env.session_factory) as s:
        assert s.scalar(select(Person.id).where(Person.workspace_id == ws_id)) is not None
