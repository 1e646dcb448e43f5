"""Calibration advice and OKR lint for a scored cycle, as text (used by the demo and the CLI)."""

from __future__ import annotations

import scoring
from app.config import ScoringSettings
from app.demo.tree import Style
from app.domain import KRType, LintWarning
from app.services.okrs.report import CycleReport
from blocks.words import count


def lint_report(report: CycleReport, settings: ScoringSettings) -> list[LintWarning]:
    """Lint the cycle's objectives as stored; people are named by name, not Slack id."""
    objectives = [
        scoring.LintObjective(
            id=o.key, title=o.title, owner=o.owner_name or o.owner_slack_id, cycle=o.cycle,
            aligned_to=f"{o.aligned_to}/{o.aligned_to_kr}" if o.aligned_to_kr else o.aligned_to,
            key_results=tuple(scoring.LintKR(id=kr.key, title=kr.title,
                                             owner=kr.owner_name or kr.owner_slack_id,
                                             kr_type=kr.kr_type) for kr in o.key_results),
        )
        for o in report.objectives
    ]
    return scoring.lint(objectives, settings)


def calibration_lines(report: CycleReport, settings: ScoringSettings, style: Style) -> list[str]:
    # Children KRs repeat their child objectives' scores; counting them would double-count.
    scores = [kr.score for o in report.objectives for kr in o.key_results
              if kr.kr_type != KRType.CHILDREN]
    result = scoring.calibration(scores, settings)
    lines = [style.paint("Calibration", bold=True)]
    if result.average is None:
        return [*lines, f"  {result.advice}"]
    band = (f"(sweet spot {settings.sweet_spot_low:.0%}-{settings.sweet_spot_high:.0%}; "
            f"above {settings.calibration_too_easy:.0%} too easy, below "
            f"{settings.calibration_unrealistic:.0%} unrealistic)")
    lines += [f"  Average KR score {result.average:.0%} over {result.count} key results: "
              f"{result.advice}.", style.paint(f"  {band}", dim=True)]
    return lines


def lint_lines(report: CycleReport, settings: ScoringSettings, style: Style) -> list[str]:
    warnings = lint_report(report, settings)
    lines = [style.paint(f"OKR lint: {count(len(warnings), 'warning')} (advice, never errors)",
                         bold=True)]
    if not warnings:
        return [*lines, "  Nothing to flag."]
    return lines + [f"  {style.paint('!', fg='yellow')} {w.message}" for w in warnings]
