"""Inline SVG charts for reports. Pure: data in, an ``<svg>`` string out, no scripts, no assets.

Every chart carries an ``id`` and a class (``score-chart``, ``grade-chart``, ``alignment-tree``)
so pages and tests can find it, a ``<title>`` for screen readers, and only escaped text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

STATUS_COLOURS = {
    "green": "#2e9e5b",
    "yellow": "#d9a400",
    "red": "#d64545",
    "paused": "#9aa0a6",
    "done": "#3b6fd6",
    "outdated": "#9aa0a6",
    "pending": "#9aa0a6",
    "achieved": "#2e9e5b",
    "strong": "#2e9e5b",
    "partial": "#d9a400",
    "miss": "#d64545",
}
GRADE_COLOURS = {
    "achieved": "#2e9e5b",
    "strong": "#7cb342",
    "partial": "#d9a400",
    "miss": "#d64545",
}
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(chart_id: str, cls: str, width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{_e(chart_id)}" class="chart {cls}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(title)}" style="{FONT}"><title>{_e(title)}</title>{body}</svg>'
    )


def score_chart(
    series: Sequence[tuple[date, float]],
    start: date,
    end: date,
    *,
    chart_id: str,
    title: str,
    width: int = 300,
    height: int = 150,
) -> str:
    """A score line (0-1) across the cycle against the expected-pace diagonal."""
    left, right, top, bottom = 34, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).days, 1)

    def x(d: date) -> float:
        return left + plot_w * min(max((d - start).days, 0), span) / span

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), 1.0))

    parts = []
    for v in (0.0, 0.5, 1.0):
        parts.append(f'<line class="grid" x1="{left}" y1="{y(v):.1f}" x2="{width - right}" '
                     f'y2="{y(v):.1f}" stroke="#e3e6ea" stroke-width="1"/>')
        parts.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" fill="#5f6368" '
                     f'text-anchor="end">{v:.0%}</text>')
    parts.append(f'<line class="pace" x1="{x(start):.1f}" y1="{y(0):.1f}" x2="{x(end):.1f}" '
                 f'y2="{y(1):.1f}" stroke="#9aa0a6" stroke-width="1.5" stroke-dasharray="4 3">'
                 f'<title>expected pace</title></line>')
    for d, anchor in ((start, "start"), (end, "end")):
        parts.append(f'<text x="{x(d):.1f}" y="{height - 6}" font-size="10" fill="#5f6368" '
                     f'text-anchor="{anchor}">{_e(d.strftime("%d %b"))}</text>')
    if series:
        points = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in series)
        parts.append(f'<polyline class="series" points="{points}" fill="none" '
                     f'stroke="#3b6fd6" stroke-width="2" stroke-linejoin="round"/>')
        for d, v in series:
            parts.append(f'<circle class="point" cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" '
                         f'fill="#3b6fd6"><title>{_e(d.isoformat())}: {v:.2f}</title></circle>')
    return _svg(chart_id, "score-chart", width, height, title, "".join(parts))


def grade_chart(
    counts: Sequence[tuple[str, int]], *, chart_id: str, title: str, width: int = 420,
) -> str:
    """Horizontal bars, one per grade, labelled with the count."""
    row, left, label_w = 30, 80, 40
    height = row * len(counts) + 10
    most = max((n for _, n in counts), default=0) or 1
    bar_max = width - left - label_w
    parts = []
    for i, (grade, n) in enumerate(counts):
        top = 5 + i * row
        w = bar_max * n / most
        colour = GRADE_COLOURS.get(grade, "#3b6fd6")
        parts.append(f'<text x="{left - 8}" y="{top + 17}" font-size="12" fill="#202124" '
                     f'text-anchor="end">{_e(grade)}</text>')
        parts.append(f'<rect class="grade-bar grade-{_e(grade)}" x="{left}" y="{top + 3}" '
                     f'width="{w:.1f}" height="{row - 10}" rx="3" fill="{colour}">'
                     f'<title>{_e(grade)}: {n}</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{top + 17}" font-size="12" '
                     f'fill="#202124">{n}</text>')
    return _svg(chart_id, "grade-chart", width, height, title, "".join(parts))


@dataclass(frozen=True, slots=True)
class TreeNode:
    key: str
    label: str
    parent: str | None
    status: str
    score: float


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alignment_tree(
    nodes: Sequence[TreeNode], *, chart_id: str, title: str, width: int = 580,
) -> str:
    """Objectives as an indented tree (parents above children), each dot coloured by status.

    ``nodes`` come in tree order (each parent before its children); a parent missing from
    the list (e.g. a private objective left out) makes the node a root.
    """
    row, indent, pad = 26, 22, 14
    height = max(row * len(nodes) + pad, 40)
    depth: dict[str, int] = {}
    pos: dict[str, tuple[float, float]] = {}
    parts = []
    for i, node in enumerate(nodes):
        parent = node.parent if node.parent in pos else None
        d = depth[parent] + 1 if parent is not None else 0
        depth[node.key] = d
        cx, cy = pad + d * indent, pad + i * row
        pos[node.key] = (cx, cy)
        if parent is not None:
            px, py = pos[parent]
            parts.append(f'<path class="edge" d="M{px:.0f},{py + 6:.0f} V{cy:.0f} H{cx - 7:.0f}" '
                         f'fill="none" stroke="#c4c9cf" stroke-width="1.5"/>')
        colour = STATUS_COLOURS.get(node.status, "#9aa0a6")
        label = _clip(node.label, max(20, (width - cx - 80) // 7))
        parts.append(
            f'<g class="tree-node status-{_e(node.status)}" data-key="{_e(node.key)}">'
            f'<circle cx="{cx}" cy="{cy}" r="6" fill="{colour}"/>'
            f'<text x="{cx + 12}" y="{cy + 4}" font-size="12" fill="#202124">{_e(label)} '
            f'<tspan fill="#5f6368">{node.score:.0%}</tspan></text>'
            f'<title>{_e(node.key)}: {_e(node.label)} ({_e(node.status)}, {node.score:.0%})'
            f'</title></g>'
        )
    return _svg(chart_id, "alignment-tree", width, height, title, "".join(parts))
