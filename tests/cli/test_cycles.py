"""``okr report`` and ``okr cycle ...`` through click, on a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import main
from app.db import make_engine
from app.migrate import upgrade
from app.models import Cycle, KRRevision
from tests.services.review.factory import build_org

AT = "2026-05-02T09:00:00Z"


@pytest.fixture()
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        build_org(s)
        s.commit()
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    yield url


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["--log-level", "WARNING", *args], catch_exceptions=False)


def test_report_to_file_and_stdout(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run("report", "--cycle", "FY27-Q1", "-o", str(out), "--at", AT)
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and out.read_text().startswith("<!DOCTYPE html>")
    md = run("report", "--cycle", "FY27-Q1", "--format", "md", "--at", AT)
    assert md.exit_code == 0 and md.output.startswith("# FY27-Q1 OKR report")
    assert "Secret personal growth" not in md.output
    private = run("report", "--cycle", "FY27-Q1", "--format", "csv", "--include-private",
                  "--at", AT)
    assert "Secret personal growth" in private.output


def test_bad_input_gets_a_clear_error(db_url: str, tmp_path: Path) -> None:
    res = run("report", "--cycle", "FY99-Q9")
    assert res.exit_code == 1 and "no cycle named 'FY99-Q9'" in res.output
    assert "Traceback" not in res.output
    res = run("report", "--format", "pdf")
    assert res.exit_code == 2 and "pdf" in res.output
    res = run("report", "--cycle", "FY27-Q1", "-o", str(tmp_path / "missing" / "r.html"))
    assert res.exit_code == 1 and "cannot write" in res.output
    res = run("cycle", "phase", "FY27-Q1", "finished")
    assert res.exit_code == 2
    res = run("cycle", "adjust", "walk", "--target", "3", "--reason", "why", "--at", AT)
    assert res.exit_code == 1 and "no target" in res.output
    res = run("report", "--at", "2026-05-02")
    assert res.exit_code == 2 and "no UTC offset" in res.output


def test_review_retro_adjust_and_next(db_url: str) -> None:
    res = run("cycle", "review", "FY27-Q1", "--at", AT)
    assert res.exit_code == 0, res.output
    assert "scores are due by 2026-05-11" in res.output  # 9 May is a Saturday
    assert "Cy: 2 self scores" in res.output
    res = run("cycle", "adjust", "bugs", "--target", "8", "--reason", "duplicates", "--at", AT)
    assert res.exit_code == 0 and "bugs: target 10 -> 8" in res.output
    res = run("cycle", "retro", "FY27-Q1", "--at", AT)
    assert res.exit_code == 0
    assert "Achievement rate  75% of 4 key results at 70% or above" in res.output
    assert "Changed mid-cycle" in res.output and "target 10 -> 8: duplicates" in res.output
    first = run("cycle", "next", "--at", AT)
    assert first.exit_code == 0 and "Created FY27-Q2 (1 May 2026 – 31 Jul 2026)" in first.output
    assert "eng-onboard -> eng-onboard-fy27-q2" in first.output
    again = run("cycle", "next", "--at", AT)
    assert "already exists" in again.output and "No objective to carry over" in again.output
    # FY27-Q2 now contains the date, but the default is still the cycle being scored.
    res = run("report", "--format", "md", "--at", "2026-05-03T09:00:00Z")
    assert res.output.startswith("# FY27-Q1 OKR report")
    res = run("cycle", "phase", "FY27-Q1", "closed", "--at", AT)
    assert res.exit_code == 0 and "now in closed" in res.output
    engine = make_engine(db_url)
    with Session(engine) as s:
        names = s.scalars(select(Cycle.name).order_by(Cycle.start_date)).all()
        assert names == ["FY26-Q4", "FY27-Q1", "FY27-Q2"]
        assert s.scalars(select(KRRevision.reason)).all() == ["duplicates"]
    engine.dispose()
