"""Purging an uninstalled workspace: everything of it goes, nothing of another, once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.db import make_session_factory, unit_of_work
from app.models import AuditEntry, Checkin, Delivery, SchedulerState, Workspace
from app.services.tenancy import retention, tokens
from app.services.tenancy.installations import EncryptedInstallationStore
from app.services.tenancy.secrets import TokenCipher
from tests.slack import seed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAMS = ("T0GONE", "T0STAY")


def fill(factory: sessionmaker[Session], engine: Engine) -> dict[str, int]:
    """Two workspaces with rows in most tables, and an installation each."""
    ids = {}
    with unit_of_work(factory) as s:
        for team in TEAMS:
            org = seed.standard(s, NOW, team_id=team)
            ws_id = org.workspace.id
            kr = org.krs["kr-inc"]
            s.add(Checkin(workspace_id=ws_id, kr_id=kr.id, author_id=org.people["U0BOB"].id,
                          at=NOW, value=20.0, note="went well", source="slack"))
            s.add(AuditEntry(workspace_id=ws_id, at=NOW, actor_label="cli", action="x",
                             subject_type="kr", subject_key="kr-inc"))
            s.add(Delivery(workspace_id=ws_id, kind="prompt", target="U0BOB", occurrence="d",
                           due_at=NOW, created_at=NOW, person_id=org.people["U0BOB"].id))
            s.add(SchedulerState(workspace_id=ws_id, last_tick_at=NOW))
            tokens.create(session=s, workspace_id=ws_id, name="ci", now=NOW)
            ids[team] = ws_id
    store = EncryptedInstallationStore("1.2", engine, TokenCipher("k"))
    for team in TEAMS:
        store.save(Installation(app_id="A0", enterprise_id=None, team_id=team, user_id="U0ADA",
                                bot_token=f"xoxb-{team}", bot_id="B0", bot_user_id="U0BOT"))
    return ids


def counts(engine: Engine, ws_id: int, team: str) -> dict[str, int]:
    out = {}
    with engine.connect() as conn:
        for table in retention.scoped_tables():
            out[table.name] = conn.execute(select(func.count()).select_from(table).where(
                table.c.workspace_id == ws_id)).scalar_one()
        for name in retention.INSTALLATION_TABLES:
            out[name] = conn.execute(text(f"SELECT count(*) FROM {name} WHERE team_id = :t"),
                                     {"t": team}).scalar_one()
        out["workspaces"] = conn.execute(select(func.count()).select_from(Workspace).where(
            Workspace.id == ws_id)).scalar_one()
    return out


@pytest.fixture()
def filled(fresh_engine: Engine) -> Iterator[tuple[sessionmaker[Session], dict[str, int]]]:
    factory = make_session_factory(fresh_engine)
    yield factory, fill(factory, fresh_engine)


def test_purge_now_from_the_cli_deletes_that_workspace_only(
        filled: tuple[sessionmaker[Session], dict[str, int]], fresh_engine: Engine,
        monkeypatch: pytest.MonkeyPatch, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    _factory, ids = filled
    stay_before = counts(fresh_engine, ids["T0STAY"], "T0STAY")
    gone_before = counts(fresh_engine, ids["T0GONE"], "T0GONE")
    assert all(gone_before[t] for t in ("people", "checkins", "audit_log", "deliveries",
                                        "api_tokens", "slack_installations", "slack_bots"))
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    caplog.set_level(logging.INFO)
    result = CliRunner().invoke(main, ["workspace", "purge", "--workspace", "T0GONE", "--now",
                                       "--yes"])
    assert result.exit_code == 0, result.output
    assert "purged Test" in result.output
    assert set(counts(fresh_engine, ids["T0GONE"], "T0GONE").values()) == {0}
    assert counts(fresh_engine, ids["T0STAY"], "T0STAY") == stay_before
    purged = [r for r in caplog.records if r.getMessage() == "workspace.purged"]
    assert len(purged) == 1 and purged[0].__dict__["team"] == "T0GONE"
    again = CliRunner().invoke(main, ["workspace", "purge", "--workspace", "T0GONE", "--now"])
    assert again.exit_code == 1 and "no workspace 'T0GONE'" in again.output


def test_due_purge_runs_once_across_concurrent_ticks(
        filled: tuple[sessionmaker[Session], dict[str, int]], fresh_engine: Engine) -> None:
    factory, ids = filled
    with unit_of_work(factory) as s:
        retention.disable(session=s, workspace_id=ids["T0GONE"], now=NOW, retention_days=30)
    assert retention.purge_due(factory, NOW + timedelta(days=29)) == []  # not due yet
    assert counts(fresh_engine, ids["T0GONE"], "T0GONE")["people"] == 4
    results: list[list[retention.Purged]] = []
    later = NOW + timedelta(days=30, minutes=1)
    threads = [threading.Thread(target=lambda: results.append(
        retention.purge_due(factory, later))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert set(counts(fresh_engine, ids["T0GONE"], "T0GONE").values()) == {0}
    assert counts(fresh_engine, ids["T0STAY"], "T0STAY")["people"] == 4


def test_reenable_cancels_the_purge(filled: tuple[sessionmaker[Session], dict[str, int]],
                                    fresh_engine: Engine) -> None:
    factory, ids = filled
    with unit_of_work(factory) as s:
        retention.disable(session=s, workspace_id=ids["T0GONE"], now=NOW, retention_days=30)
    store = EncryptedInstallationStore("1.2", fresh_engine, TokenCipher("k"))
    store.save(Installation(app_id="A0", enterprise_id=None, team_id="T0GONE", user_id="U0ADA",
                            bot_token="xoxb-again", bot_id="B0", bot_user_id="U0BOT"))
    assert retention.purge_due(factory, NOW + timedelta(days=31)) == []
    with unit_of_work(factory) as s:
        ws = s.get(Workspace, ids["T0GONE"])
        assert ws is not None and ws.disabled_at is None and ws.purge_after is None
        actions = s.scalars(select(AuditEntry.action).where(
            AuditEntry.workspace_id == ws.id, AuditEntry.action.like("workspace.%"))).all()
    assert list(actions) == ["workspace.disable", "workspace.enable"]
