"""``okr demo`` ends the sample quarter: scoring, retrospective, and an HTML report on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.demo.run import run_demo
from app.models import Cycle, Reflection, Review


@pytest.mark.slow
def test_demo_scores_the_quarter_and_writes_the_report(tmp_path: Path) -> None:
    lines: list[str] = []
    db = tmp_path / "demo.db"
    ctx = run_demo(db_path=db, out=lines.append)
    text = "\n".join(lines)
    assert "FY27-Q1 ends: scoring, reflections, retrospective" in text
    assert "Retrospective: FY27-Q1 · Acme Cloud" in text
    assert "Biggest gaps between self and final scores" in text
    report = ctx.results["report_path"]
    assert report == tmp_path / "report-FY27-Q1.html"
    assert f"open it in a browser: {report.as_uri()}" in text
    page = report.read_text()
    assert 'id="alignment-tree"' in page and 'id="grade-distribution"' in page
    assert page.count('class="chart score-chart"') >= 8
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        assert s.scalar(select(Cycle.phase)) == "closed"
        kinds = dict(s.execute(select(Review.kind, func.count()).group_by(Review.kind)).all())
        assert kinds["computed"] == kinds["self"] == 29 and kinds["final"] >= 20
        assert (s.scalar(select(func.count()).select_from(Reflection)) or 0) >= 3
    engine.dispose()
    # --keep prints the retrospective and writes the report again without re-scoring.
    again: list[str] = []
    run_demo(db_path=db, out=again.append, fresh=False)
    assert any(line.startswith("Retrospective: FY27-Q1") for line in "\n".join(again).splitlines())
    assert not any("two days after" in line for line in again)
