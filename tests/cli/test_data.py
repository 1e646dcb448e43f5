"""okr import / export / checkin / show / tree / demo through click, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from app.cli import main
from app.db import make_engine
from app.models import Checkin, KeyResult
from tests.dbutil import fresh_postgres_database
from tests.services.helpers import RUNNING_ORG, SMALL_ORG, completed_example, dump


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        yield url
        return
    with fresh_postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


# These commands run at the wall-clock time: by then FY27-Q1 has ended and an import would mark
# it closed (read-only), so the file says it is still running.
assert RUNNING_ORG != SMALL_ORG


def okr(*args: str) -> Result:
    return CliRunner().invoke(main, ["--log-level", "WARNING", *args])


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        engine.dispose()


def test_import_export_checkin_show_tree(database_url: str, tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(RUNNING_ORG)

    first = okr("import", str(org))
    assert first.exit_code == 0, first.output
    assert "key results       8 created" in first.stdout
    again = okr("import", str(org))
    assert again.exit_code == 0 and "(nothing changed)" in again.stdout

    recorded = okr("checkin", "k1", "--value", "8", "--status", "green", "--note", "Up",
                   "--as", "U0ANA")
    assert recorded.exit_code == 0, recorded.output
    assert "recorded a check-in on k1: 8 of 10, score 0.80, status green" in recorded.stdout

    exported = okr("export", "--format", "json")
    assert exported.exit_code == 0, exported.output
    doc = json.loads(exported.stdout)
    k1 = next(k for o in doc["objectives"] for k in o["key_results"] if k["id"] == "k1")
    assert (k1["current"], k1["status"], k1["checkins"][-1]["author"]) == (8, "green", "U0ANA")

    csv_out = tmp_path / "krs.csv"
    assert okr("export", "--format", "csv", "-o", str(csv_out)).exit_code == 0
    assert csv_out.read_text().count("\n") == 9  # header + 8 KRs
    md = okr("export", "--format", "md", "--cycle", "FY27-Q1")
    assert md.exit_code == 0 and "## FY27-Q1" in md.stdout

    shown = okr("show", "k1")
    assert shown.exit_code == 0, shown.output
    assert "Key result k1: Customers from 0 to 10" in shown.stdout
    assert "Check-ins (2, oldest first)" in shown.stdout and "Up" in shown.stdout
    index = okr("show")
    assert index.exit_code == 0 and "  k1 " in index.stdout and "o2 " in index.stdout
    tree = okr("tree", "--cycle", "FY27-Q1", "--no-color")
    assert tree.exit_code == 0, tree.output
    assert "◆ Grow" in tree.stdout and "Calibration" in tree.stdout


def test_bad_input_exits_1_and_changes_nothing(database_url: str, tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(SMALL_ORG)
    assert okr("import", str(org)).exit_code == 0
    checkins_before = _count(database_url, Checkin)

    doc = completed_example()
    doc["objectives"][1]["key_results"][0]["target"] = 14
    bad = tmp_path / "bad.yaml"
    bad.write_text(dump(doc))
    refused = okr("import", str(bad))
    assert refused.exit_code == 1
    assert "objectives[1].key_results[0].target: equals start" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert _count(database_url, KeyResult) == 8

    for args, message in [
        (["checkin", "k1", "--value", "lots"], "--value: 'lots' is not a number"),
        (["checkin", "k1", "--value", "1", "--score", "0.5"], "give one of --value"),
        (["checkin", "k1"], "k1 is an increase KR: give --value"),
        (["checkin", "k3", "--value", "2"], "--value: a milestone is done (1) or not (0)"),
        (["checkin", "k6", "--score", "2"], "--score: a score is between 0.0 and 1.0"),
        (["checkin", "k1", "--value", "3", "--status", "blue"], "status is green, yellow or red"),
        (["checkin", "k1", "--value", "3", "--as", "U0NOBODY"], "--as: no person 'U0NOBODY'"),
        (["checkin", "k1", "--value", "3", "--at", "2026-03-01"], "has no UTC offset"),
        (["checkin", "nope", "--value", "3"], "no key result 'nope'"),
        (["show", "nope"], "no objective or key result 'nope'"),
        (["export", "--cycle", "FY99-Q1"], "no cycle named 'FY99-Q1'"),
    ]:
        result = okr(*args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert _count(database_url, Checkin) == checkins_before


def test_import_dry_run_writes_nothing(database_url: str, tmp_path: Path) -> None:
    org = tmp_path / "org.yaml"
    org.write_text(SMALL_ORG)
    result = okr("import", "--dry-run", str(org))
    assert result.exit_code == 0 and "would import" in result.stdout
    assert _count(database_url, KeyResult) == 0


@pytest.mark.slow
def test_demo_runs_and_prints_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # ignored
    result = okr("demo", "--no-color")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (tmp_path / "okr-demo" / "demo.db").exists()
    assert "Loaded the sample organisation: 12 people in 4 time zones" in out
    assert "◆ Win and keep customers who love Acme" in out
    assert "[GREEN]" in out and "[RED]" in out and "[DONE]" in out
    assert "[OUTDATED]" in out and "! outdated: no update since 2026-03-30" in out
    # The calibrated lights mid-quarter: the week-7 tree and its agreement with the plans.
    assert "Acme Cloud in week 7 (Fri 27 Mar)" in out
    assert "10 of 11 objective lights match" in out
    assert "! declared green but behind pace" in out
    assert "Calibration" in out and "Average KR score" in out
    assert "OKR lint:" in out and "says 'Improve' without a number" in out
    assert "\x1b[" not in out  # plain text when not colouring

    kept = okr("demo", "--keep", "--no-color")
    assert kept.exit_code == 0, kept.output
    assert "Loaded" not in kept.stdout and "◆ Win and keep customers" in kept.stdout
