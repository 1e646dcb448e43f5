"""``settings.slack_team`` binds an imported workspace to one Slack team, and only once."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import main
from app.db import make_engine
from app.models import AuditEntry, Workspace
from app.services.data.imports import load
from app.services.tenancy import workspaces
from tests.services.helpers import counts


def org(team: str | None = "T0ACME", name: str = "Acme") -> str:
    line = f"slack_team: {team}" if team is not None else "slack_team: null"
    return f"settings:\n  name: {name}\n  {line}\npeople:\n  - {{slack_id: U0ADA, name: Ada}}\n"


def new_workspace(session: Session, name: str, team: str | None, now: datetime) -> Workspace:
    ws = Workspace(name=name, slack_team_id=team, created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    return ws


def problems(session: Session, ws: Workspace, text: str, now: datetime) -> list[str]:
    before = counts(session)
    with pytest.raises(load.ImportInvalid) as err:
        load.import_text(session=session, workspace=ws, text=text, now=now)
    assert counts(session) == before
    return [str(p) for p in err.value.problems]


def test_import_binds_an_unbound_workspace(session: Session, now: datetime) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    assert ws.slack_team_id is None
    summary = load.import_text(session=session, workspace=ws, text=org(), now=now)
    assert summary.settings_updated and ws.slack_team_id == "T0ACME"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.update")).one()
    assert entry.after == {"name": "Acme", "slack_team": "T0ACME"}
    again = load.import_text(session=session, workspace=ws, text=org(), now=now)
    assert not again.changed


def test_import_never_rebinds_or_unbinds(session: Session, now: datetime) -> None:
    theirs = new_workspace(session, "Theirs", "T0THEIRS", now)
    assert problems(session, theirs, org("T0ACME"), now) == [
        "settings.slack_team: workspace 'Theirs' belongs to Slack team T0THEIRS; a "
        "workspace's team cannot be changed by an import"]
    assert problems(session, theirs, org(None), now) == [
        "settings.slack_team: give a Slack team id (T...); a workspace's team cannot be "
        "removed by an import"]
    spare = new_workspace(session, "Spare", None, now)
    assert problems(session, spare, org("T0THEIRS"), now) == [
        "settings.slack_team: Slack team T0THEIRS already has workspace 'Theirs' (import into "
        "it with --workspace T0THEIRS)"]
    assert (theirs.slack_team_id, spare.slack_team_id) == ("T0THEIRS", None)


def test_slack_team_must_look_like_a_team_id(session: Session, now: datetime) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    found = problems(session, ws, org("acme"), now)
    assert len(found) == 1 and found[0].startswith("settings.slack_team:")


def test_cli_import_goes_to_the_named_teams_workspace(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for env in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(env, raising=False)
    (tmp_path / "a.yaml").write_text(org("T0ACME", "Acme"))
    (tmp_path / "b.yaml").write_text(org("T0BETA", "Beta"))
    run = CliRunner()
    first = run.invoke(main, ["--log-level", "WARNING", "import", str(tmp_path / "a.yaml")])
    assert first.exit_code == 0, first.output
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            new_workspace(s, "beta", "T0BETA", datetime.now().astimezone())
            s.commit()
        second = run.invoke(main, ["--log-level", "WARNING", "import", str(tmp_path / "b.yaml")])
        assert second.exit_code == 0, second.output
        assert "into workspace 'Beta'" in second.output
        with Session(engine) as s:
            rows = {w.slack_team_id: w.name for w in s.scalars(select(Workspace))}
    finally:
        engine.dispose()
    assert rows == {"T0ACME": "Acme", "T0BETA": "Beta"}
