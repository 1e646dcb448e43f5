"""The SVG chart builders: pure functions, well-formed XML, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from app.reports import svg

NS = "{http://www.w3.org/2000/svg}"
START, END = date(2026, 2, 1), date(2026, 4, 30)


def test_score_chart_draws_series_and_pace_line() -> None:
    out = svg.score_chart([(START, 0.0), (date(2026, 3, 17), 0.5), (END, 1.0)], START, END,
                          chart_id="score-7", title="Ship <it> & more", width=300, height=150)
    root = ET.fromstring(out)
    assert root.get("id") == "score-7" and "score-chart" in (root.get("class") or "")
    assert root.findtext(f"{NS}title") == "Ship <it> & more"
    line = root.find(f"{NS}polyline")
    assert line is not None
    points = [tuple(map(float, p.split(","))) for p in (line.get("points") or "").split()]
    # Left edge at 0.0 (bottom), right edge at 1.0 (top): x spans the plot, y is inverted.
    assert points[0] == (34.0, 126.0) and points[-1] == (290.0, 10.0)
    pace = next(e for e in root.iter(f"{NS}line") if e.get("class") == "pace")
    assert (pace.get("x1"), pace.get("y1"), pace.get("x2"), pace.get("y2")) == (
        "34.0", "126.0", "290.0", "10.0")
    assert len(root.findall(f"{NS}circle")) == 3


def test_score_chart_clamps_and_handles_no_data() -> None:
    root = ET.fromstring(svg.score_chart([(date(2026, 1, 1), 1.7)], START, END, chart_id="c",
                                         title="t"))
    circle = root.find(f"{NS}circle")
    assert circle is not None and (circle.get("cx"), circle.get("cy")) == ("34.0", "10.0")
    empty = ET.fromstring(svg.score_chart([], START, END, chart_id="e", title="t"))
    assert empty.find(f"{NS}polyline") is None


def test_grade_chart_bars_scale_to_the_largest_count() -> None:
    root = ET.fromstring(svg.grade_chart([("achieved", 1), ("strong", 4), ("partial", 0),
                                          ("miss", 2)], chart_id="g", title="Grades"))
    bars = {r.get("class"): float(r.get("width") or 0) for r in root.iter(f"{NS}rect")}
    assert bars["grade-bar grade-strong"] == 300.0
    assert bars["grade-bar grade-achieved"] == 75.0
    assert bars["grade-bar grade-partial"] == 0.0


def test_alignment_tree_nests_children_and_colours_by_status() -> None:
    nodes = [
        svg.TreeNode("co", "Company <goal>", None, "green", 0.8),
        svg.TreeNode("eng", "Engineering", "co", "yellow", 0.6),
        svg.TreeNode("ops", "Operations", "co", "red", 0.2),
        svg.TreeNode("orphan", "Aligned to a private one", "hidden", "green", 0.5),
    ]
    root = ET.fromstring(svg.alignment_tree(nodes, chart_id="alignment-tree", title="Tree"))
    groups = [g for g in root.iter(f"{NS}g") if "tree-node" in (g.get("class") or "")]
    assert [g.get("data-key") for g in groups] == ["co", "eng", "ops", "orphan"]
    assert [g.get("class") for g in groups][:3] == [
        "tree-node status-green", "tree-node status-yellow", "tree-node status-red"]
    xs = [float(g.find(f"{NS}circle").get("cx") or 0) for g in groups]  # type: ignore[union-attr]
    assert xs[1] == xs[2] > xs[0] == xs[3]  # children indented; a missing parent makes a root
    assert len([p for p in root.iter(f"{NS}path") if p.get("class") == "edge"]) == 2
    assert "Company <goal>" in "".join(root.itertext())
