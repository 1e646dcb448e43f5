"""``okr checkin KR --correct`` and ``--undo``: the Slack corrections from the terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from tests.dbutil import fresh_postgres_database
from tests.services.helpers import RUNNING_ORG


@pytest.fixture(params=["sqlite", "postgresql"])
def org(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    (tmp_path / "org.yaml").write_text(RUNNING_ORG)
    if request.param == "sqlite":
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        assert okr("import", "org.yaml").exit_code == 0
        yield
        return
    with fresh_postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        assert okr("import", "org.yaml").exit_code == 0
        yield


def okr(*args: str) -> Result:
    return CliRunner().invoke(main, ["--log-level", "WARNING", *args])


def _k1() -> dict[str, object]:
    doc = json.loads(okr("export", "--format", "json").stdout)
    return next(k for o in doc["objectives"] for k in o["key_results"] if k["id"] == "k1")


def test_correct_then_undo_the_latest_check_in(org: None) -> None:
    first = okr("checkin", "k1", "--value", "7", "--status", "yellow", "--note", "typo",
                "--as", "U0ANA")
    assert first.exit_code == 0, first.output
    fixed = okr("checkin", "k1", "--correct", "--value", "8", "--as", "U0ANA")
    assert fixed.exit_code == 0, fixed.output
    assert "corrected check-in #" in fixed.stdout
    assert "now value 8, status yellow" in fixed.stdout  # the status and note are kept
    k1 = _k1()
    assert (k1["current"], k1["declared_status"]) == (8, "yellow")
    history = k1["checkins"]
    assert [h["value"] for h in history] == [5, 7, 8]  # type: ignore[index]
    assert history[1]["superseded_by"] == history[2]["at"]  # type: ignore[index]
    assert history[2]["note"] == "typo"  # type: ignore[index]

    undone = okr("checkin", "k1", "--undo", "--as", "U0ANA")
    assert undone.exit_code == 0, undone.output
    assert "undid check-in #" in undone.stdout and "back to value 5" in undone.stdout
    k1 = _k1()
    assert k1["current"] == 5 and k1["declared_status"] is None
    assert k1["checkins"][-1]["undo"] is True  # type: ignore[index]
    shown = okr("show", "k1")
    assert "(corrected)" in shown.stdout and "(undo)" in shown.stdout


def test_a_named_check_in_and_the_errors(org: None) -> None:
    for args, message in [
        (["checkin", "k7", "--correct", "--status", "red"],
         "there is no check-in on k7 to correct"),
        (["checkin", "k8", "--correct", "--value", "4", "--as", "U0ANA"],
         "that person has no check-in on k8 to correct"),
        (["checkin", "k1", "--correct"], "nothing to correct: give --value"),
        (["checkin", "k1", "--undo", "--value", "3"], "--undo takes no new values"),
        (["checkin", "k1", "--checkin", "1", "--value", "3"], "add --correct or --undo"),
        (["checkin", "k1", "--correct", "--value", "3", "--at", "2026-03-01"],
         "--at is for new check-ins"),
        (["checkin", "k1", "--correct", "--checkin", "999999", "--value", "3"],
         "that check-in does not exist"),
        (["checkin", "k1", "--correct", "--value", "lots"], "--value: 'lots' is not a number"),
        (["checkin", "k1", "--correct", "--status", "blue"],
         "--status: status is green, yellow or red"),
    ]:
        result = okr(*args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
    shown = okr("show", "k1").stdout
    first_id = next(line.split()[0] for line in shown.splitlines()
                    if line.strip().startswith("#"))
    assert okr("checkin", "k1", "--value", "9").exit_code == 0
    stale = okr("checkin", "k1", "--correct", "--checkin", first_id.lstrip("#"),
                "--value", "6")
    assert stale.exit_code == 1 and "a later check-in on this key result" in stale.output
    wrong = okr("checkin", "k2", "--correct", "--checkin", first_id.lstrip("#"),
                "--value", "6")
    assert wrong.exit_code == 1 and "is not on k2" in wrong.output
