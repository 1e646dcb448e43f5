"""The rollup tree as text: objectives nested by alignment, their KRs, team scores.

Pure: takes a scored ``CycleReport`` (``app.services.okrs.cycle_report``) and returns text.
Used by ``okr demo`` and ``okr tree``. With ``color`` the statuses and bars carry ANSI colours
(for a terminal); without it the output is plain text that reads the same in a log or a file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import click

from app.demo.text import shorten
from app.domain import KRState, KRType, KRView, ObjectiveView
from app.services.okrs.report import CycleReport
from blocks.units import format_value

_COLORS = {"green": "green", "yellow": "yellow", "red": "red", "paused": "bright_black",
           "done": "cyan", "outdated": "bright_black", "pending": "bright_black",
           "achieved": "cyan", "strong": "green", "partial": "yellow", "miss": "red"}
_ARROWS = {True: {"up": "↑", "down": "↓", "flat": "→"}, False: {"up": "^", "down": "v",
                                                                "flat": "-"}}


@dataclass(frozen=True, slots=True)
class TeamLine:
    """A team as the tree shows it (from the workspace, not from the report)."""

    key: str
    name: str
    kind: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class Style:
    color: bool = False
    unicode: bool = True
    width: int = 100

    def paint(self, text: str, fg: str | None = None, *, bold: bool = False,
              dim: bool = False) -> str:
        if not self.color:
            return text
        return click.style(text, fg=fg, bold=bold or None, dim=dim or None)


def bar(score: float, style: Style, width: int = 10) -> str:
    """A fixed-width progress bar for a score in [0, 1]."""
    score = min(max(score, 0.0), 1.0)
    if not style.unicode:
        full = round(score * width)
        return "#" * full + "-" * (width - full)
    eighths = round(score * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    return "█" * full + partial + "░" * (width - full - len(partial))


def _status_word(kr_state: KRState | None, status: str) -> str:
    return kr_state.value if kr_state is not None and kr_state != KRState.ACTIVE else status


def _fit(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, or cut between words to fit."""
    return shorten(text, width).ljust(width)


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value == int(value):
        return f"{value:,.0f}" if abs(value) >= 10000 else f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _with_unit(value: float | None, unit: str) -> str:
    """The same reading as in Slack (``$2.2M``, ``45%``, ``300 ms``): blocks.units."""
    return format_value(value, unit or None) if unit else _num(value)


def kr_value(kr: KRView) -> str:
    """The KR's latest value in a few characters: ``7.3 days``, ``3 of 15``, ``done``."""
    unit = kr.unit or ""
    if kr.kr_type in (KRType.INCREASE, KRType.DECREASE):
        current = kr.current if kr.current is not None else kr.start
        if unit == "%" or unit.startswith("$"):
            return _with_unit(current, unit)
        if kr.kr_type == KRType.INCREASE:
            return f"{_num(current)} of {_num(kr.target)}"  # counts read best as "3 of 5"
        return _with_unit(current, unit) if unit else f"{_num(current)}, goal {_num(kr.target)}"
    if kr.kr_type in (KRType.ABOVE, KRType.BELOW):
        return _with_unit(kr.current, unit)
    if kr.kr_type == KRType.PERCENT:
        return f"{_num(kr.current or 0)}%"
    if kr.kr_type == KRType.MILESTONE:
        return "done" if kr.current == 1.0 else "not yet"
    if kr.kr_type == KRType.MANUAL:
        return "self-scored"
    return str(kr.kr_type)


@dataclass
class _Columns:
    title: int
    owner: int


def _right(style: Style, value: str, score: float, status: str, trend: str | None,
           owner: str | None, cols: _Columns) -> str:
    word = f"[{status.upper()}]".ljust(10)
    arrow = _ARROWS[style.unicode][trend] if trend else " "
    return (f"{value:>11}  {score:4.0%} {style.paint(bar(score, style), _COLORS.get(status))} "
            f"{style.paint(word, _COLORS.get(status), bold=status == 'red')} {arrow}  "
            f"{_fit(owner or '', cols.owner).rstrip()}")


def _children(objectives: Sequence[ObjectiveView]) -> dict[str | None, list[ObjectiveView]]:
    keys = {o.key for o in objectives}
    out: dict[str | None, list[ObjectiveView]] = defaultdict(list)
    for o in objectives:
        parent = o.aligned_to if o.aligned_to in keys and o.aligned_to != o.key else None
        out[parent].append(o)
    return out


def _guides(style: Style) -> tuple[str, str, str, str]:
    if style.unicode:
        return "├─ ", "└─ ", "│  ", "   "
    return "+- ", "`- ", "|  ", "   "


def _kr_lines(kr: KRView, pad: str, style: Style, cols: _Columns, now: datetime | None,
              ) -> list[str]:
    bullet = "•" if style.unicode else "*"
    # One column kept free so a long value ("350 tickets") never touches the title.
    title = _fit(f"{bullet} {kr.title}", cols.title - len(pad) - 1) + " "
    status = _status_word(kr.state, kr.light.value)
    out = [pad + title + _right(style, kr_value(kr), kr.score, status, kr.trend,
                                kr.owner_name, cols)]
    notes: list[tuple[str, str]] = []
    if kr.stale and kr.state == KRState.ACTIVE and kr.grade is None:
        since = f"no update since {kr.last_checkin_at.date().isoformat()}" \
            if kr.last_checkin_at else "no check-in yet"
        days = f" ({(now - kr.last_checkin_at).days} days)" if now and kr.last_checkin_at else ""
        notes.append(("bright_black", f"! outdated: {since}{days}"))
    if kr.mismatch:
        notes.append(("red", f"! {kr.mismatch} (suggested {kr.suggested_status.value})"))
    if kr.last_blockers:
        notes.append(("magenta", f"blocked: {kr.last_blockers}"))
    width = style.width - len(pad) - 4
    out += [pad + "    " + style.paint(_fit(text, width).rstrip(), fg) for fg, text in notes]
    return out


def render_tree(report: CycleReport, *, style: Style = Style(), teams: Sequence[TeamLine] = (),
                now: datetime | None = None, title: str | None = None) -> str:
    """The whole cycle: header, the objective tree with KRs, then team scores."""
    owners = [o.owner_name or "" for o in report.objectives] + [
        kr.owner_name or "" for o in report.objectives for kr in o.key_results]
    owner_w = min(max((len(n) for n in owners), default=0), 18)
    # The right-hand columns take 43 characters before the owner's name.
    cols = _Columns(title=max(style.width - 43 - owner_w, 30), owner=owner_w)
    c = report.cycle
    lines = [style.paint(f"{title + ' · ' if title else ''}{c.name} · {c.start.isoformat()} to "
                         f"{c.end.isoformat()} · day {c.day} of {c.total_days} "
                         f"(expected progress {c.expected:.0%})", bold=True), ""]
    if report.company_score is not None:
        lines += [f"Company score {report.company_score:.0%} {bar(report.company_score, style)}",
                  ""]
    header = "Objectives and key results".ljust(cols.title) + \
        f"{'latest':>11}  score {'progress':<10} {'status':<10} {'':1}  owner"
    lines += [style.paint(header, dim=True), style.paint(("─" if style.unicode else "-")
                                                         * min(style.width, len(header) + 4),
                                                         dim=True)]
    tee, elbow, pipe, blank = _guides(style)
    kids = _children(report.objectives)
    diamond = "◆" if style.unicode else "o"
    # Depth-first with explicit stack: (objective, guide for its line, prefix for below it).
    stack = [(o, "", "") for o in reversed(kids.get(None, []))]
    while stack:
        o, lead, below = stack.pop()
        status = o.light.value
        label = _fit(f"{lead}{diamond} {o.title}", cols.title)
        lines.append(style.paint(label, bold=True) + _right(style, "", o.score, status, None,
                                                            o.owner_name, cols))
        children = kids.get(o.key, [])
        kr_pad = below + (pipe if children else blank)
        for kr in o.key_results:
            lines += _kr_lines(kr, kr_pad, style, cols, now)
        for i, child in enumerate(reversed(children)):
            last = i == 0
            stack.append((child, below + (elbow if last else tee),
                          below + (blank if last else pipe)))
    if teams:
        lines += ["", style.paint("Teams", bold=True), *_team_lines(report, teams, style)]
    return "\n".join(lines) + "\n"


def _team_lines(report: CycleReport, teams: Sequence[TeamLine], style: Style) -> list[str]:
    keys = {t.key for t in teams}
    kids: dict[str | None, list[TeamLine]] = defaultdict(list)
    for t in teams:
        kids[t.parent if t.parent in keys else None].append(t)
    tee, elbow, pipe, blank = _guides(style)
    out: list[str] = []
    stack = [(t, "", "") for t in reversed(kids.get(None, []))]
    while stack:
        t, lead, below = stack.pop()
        score = report.team_scores.get(t.key)
        name = _fit(f"{lead}{t.name} ({t.kind})", 44)
        out.append("  " + name + (f"{score:4.0%} {bar(score, style)}" if score is not None
                                  else "   – no objectives"))
        for i, child in enumerate(reversed(kids.get(t.key, []))):
            last = i == 0
            stack.append((child, below + (elbow if last else tee),
                          below + (blank if last else pipe)))
    return out


LEGEND = ("score 0-100% · status: the owner's declared traffic light, else one suggested "
          "from the KR's pace (aspirational objectives aim at 70%); outdated: no update for two "
          "check-in cadences; pending: no check-in yet; after the end, the grade · trend since "
          "the previous check-in")
