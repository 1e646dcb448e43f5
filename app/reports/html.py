"""The standalone HTML report: one file, inline CSS and SVG, no scripts, no external assets."""

from __future__ import annotations

from markupsafe import Markup

from app.reports import svg
from app.services.review.report import ObjectiveRow, Report
from blocks.review_text import environment

# Beyond this many objectives the per-objective charts stop (the tables still list all).
MAX_CHARTS = 200
MAX_TREE = 500
GRADES = ("achieved", "strong", "partial", "miss")


def tree_nodes(report: Report) -> list[svg.TreeNode]:
    return [
        svg.TreeNode(key=row.view.key, label=row.view.title, parent=row.view.aligned_to,
                     status=row.grade.value if row.view.grade else row.view.light.value,
                     score=row.used)
        for row in report.objectives[:MAX_TREE]
    ]


def charts(report: Report) -> list[tuple[ObjectiveRow, Markup]]:
    cycle = report.cycle
    return [
        (row, Markup(svg.score_chart(
            row.series, cycle.start, cycle.end, chart_id=f"score-{i}",
            title=f"{row.view.title}: score over {cycle.name} against the expected pace")))
        for i, row in enumerate(report.objectives[:MAX_CHARTS])
    ]


def render(report: Report) -> str:
    # Markup(): the svg module escapes every piece of text it writes.
    grades = report.retro.numbers.grades
    counts = [(g, next((n for k, n in grades.items() if k.value == g), 0)) for g in GRADES]
    grade_svg = Markup(svg.grade_chart(
        counts, chart_id="grade-distribution",
        title=f"Distribution of final grades, {report.cycle.name}"))
    tree_svg = Markup(svg.alignment_tree(
        tree_nodes(report), chart_id="alignment-tree",
        title=f"Alignment of {report.cycle.name} objectives, coloured by status"))
    template = environment(html=True).get_template("report.html.j2")
    return template.render(
        report=report, retro=report.retro, grade_svg=grade_svg, tree_svg=tree_svg,
        charts=charts(report), max_charts=MAX_CHARTS, max_tree=MAX_TREE,
        colours=svg.STATUS_COLOURS,
    )
