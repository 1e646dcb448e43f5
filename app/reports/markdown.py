"""The Markdown report, for wikis and merge requests."""

from __future__ import annotations

from app.services.review.report import Report
from blocks.review_text import environment


def render(report: Report) -> str:
    template = environment(html=False).get_template("report.md.j2")
    return template.render(report=report, retro=report.retro)
