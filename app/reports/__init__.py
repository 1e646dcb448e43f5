"""Report renderers: HTML (standalone, inline SVG charts), Markdown and CSV."""

from __future__ import annotations

from collections.abc import Callable

from app.reports import csv, html, markdown
from app.services.review.report import Report

FORMATS = ("html", "md", "csv")
MEDIA_TYPES = {"html": "text/html", "md": "text/markdown", "csv": "text/csv"}
_RENDERERS: dict[str, Callable[[Report], str]] = {
    "html": html.render, "md": markdown.render, "csv": csv.render,
}


def renderer(fmt: str) -> Callable[[Report], str]:
    """The render function for ``html``, ``md`` or ``csv``; ValueError for anything else."""
    try:
        return _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}") \
            from None
