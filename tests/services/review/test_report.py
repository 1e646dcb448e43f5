"""Report data and its HTML, Markdown and CSV renderings."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.reports import csv as csv_report
from app.reports import html, markdown, renderer
from app.services.review import report as reports
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org
from tests.services.review.flow import close_cycle


@pytest.fixture()
def org(session: Session) -> Org:
    o = build_org(session)
    close_cycle(session, o)
    return o


def _report(session: Session, org: Org, *, include_private: bool = False) -> reports.Report:
    return reports.build(session=session, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
                         today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS,
                         include_private=include_private)


def test_sample_dates_are_week_ends_up_to_today() -> None:
    assert reports.sample_dates(date(2026, 2, 1), date(2026, 4, 30), date(2026, 2, 20)) == [
        date(2026, 2, 1), date(2026, 2, 7), date(2026, 2, 14), date(2026, 2, 20)]
    days = reports.sample_dates(date(2026, 2, 1), date(2026, 4, 30), date(2026, 6, 1))
    assert days[0] == date(2026, 2, 1) and days[-1] == date(2026, 4, 30) and len(days) == 14


def test_history_replays_checkins_week_by_week(session: Session, org: Org) -> None:
    rep = _report(session, org)
    row = next(r for r in rep.objectives if r.view.key == "eng-quality")
    series = dict(row.series)
    # Close 10 bugs: 2 by 6 Feb, 3 by 27 Feb, 5 by 20 Mar, 6 by 10 Apr.
    assert series[date(2026, 2, 1)] == 0.0
    assert series[date(2026, 2, 7)] == pytest.approx(0.2)
    assert series[date(2026, 2, 28)] == pytest.approx(0.3)
    assert series[date(2026, 3, 21)] == pytest.approx(0.5)
    assert series[date(2026, 4, 30)] == pytest.approx(0.6)
    onboard = dict(next(r for r in rep.objectives if r.view.key == "eng-onboard").series)
    # ttv weighs 2, walk (milestone on 20 April) 1.
    assert onboard[date(2026, 2, 7)] == pytest.approx(2 * (2 / 9) / 3)
    assert onboard[date(2026, 4, 25)] == pytest.approx((2 * (7 / 9) + 1) / 3)


def test_report_rows_use_final_scores(session: Session, org: Org) -> None:
    rep = _report(session, org)
    assert [r.view.key for r in rep.objectives] == ["co-growth", "eng-onboard", "eng-quality"]
    onboard = rep.objectives[1]
    assert onboard.used == pytest.approx((2 * 0.6 + 1.0) / 3)
    assert onboard.self_score == pytest.approx((2 * 0.8 + 1.0) / 3)
    assert not onboard.provisional
    assert [(k.view.key, k.final, k.grade.value) for k in onboard.krs] == [
        ("ttv", 0.6, "partial"), ("walk", 1.0, "achieved")]


def test_html_is_standalone_escaped_and_has_charts(session: Session, org: Org) -> None:
    page = html.render(_report(session, org))
    assert page.startswith("<!DOCTYPE html>")
    for marker in ('id="grade-distribution"', 'id="alignment-tree"', 'id="score-0"',
                   'id="score-2"', 'class="chart score-chart"', 'class="tree-node status-'):
        assert marker in page
    # Nothing loaded from elsewhere: the only URL is the SVG namespace.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "Fewer bugs &lt;reach&gt; customers" in page and "<reach>" not in page
    assert "measured on a subset of sign-ups" in page  # the final score's reason
    assert "instrument sign-up funnel" in page  # carry forward
    assert "Above the sweet spot" in page and "FY26-Q4" in page


def test_private_objectives_only_when_asked(session: Session, org: Org) -> None:
    public = _report(session, org)
    for fmt in ("html", "md", "csv"):
        text = renderer(fmt)(public)
        assert "Secret personal growth" not in text and "secret plan" not in text, fmt
    assert "Private objectives are not included" in html.render(public)
    private = _report(session, org, include_private=True)
    page = html.render(private)
    assert "Secret personal growth" in page and "the secret plan" in page
    assert "includes private objectives" in page


def test_markdown_has_summary_table_and_escapes(session: Session, org: Org) -> None:
    text = markdown.render(_report(session, org))
    assert text.startswith("# FY27-Q1 OKR report\n")
    assert "| Achievement rate (KRs at 70% or above) | 50% (+50 pts vs FY26-Q4) |" in text
    assert "| **Fewer bugs \\<reach\\> customers** `eng-quality` |" in text
    # After the end the status column shows the grade of the final score, not a pace light.
    assert "| ↳ Reduce time-to-first-value from 14 to 5 days | Bob | partial | 78% | 80% | 60% |" \
        in text
    assert "self 80%, final 60% (−20 pts): measured on a subset of sign-ups" in text
    assert text.endswith("Private objectives are not included.\n")


def test_csv_one_row_per_kr_and_no_formulas(session: Session, org: Org) -> None:
    org.krs["bugs"].title = "=HYPERLINK(\"http://x\")"
    session.flush()
    rows = list(csv.DictReader(io.StringIO(csv_report.render(_report(session, org)))))
    assert [r["kr_id"] for r in rows] == ["revenue", "ttv", "walk", "bugs"]
    ttv = rows[1]
    assert (ttv["computed"], ttv["self"], ttv["final"], ttv["grade"]) == ("0.7778", "0.8", "0.6",
                                                                          "partial")
    assert ttv["final_reason"] == "measured on a subset of sign-ups"
    assert rows[3]["key_result"].startswith("'=")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        renderer("pdf")


def test_history_rolls_up_aligned_objectives(session: Session, org: Org) -> None:
    org.objectives["co-growth"].rollup_mode = "children"
    session.flush()
    rep = _report(session, org, include_private=True)
    series = {r.view.key: dict(r.series) for r in rep.objectives}
    day = date(2026, 3, 21)
    # Children: eng-onboard and eng-quality (aligned to co-growth), equally weighted.
    assert series["co-growth"][day] == pytest.approx(
        (series["eng-onboard"][day] + series["eng-quality"][day]) / 2)
    assert series["co-growth"][date(2026, 4, 30)] == pytest.approx(rep.objectives[0].view.score)
