"""The CSV report: one row per key result, with its objective's figures, for spreadsheets."""

from __future__ import annotations

import csv
import io

from app.services.data.csv_cells import csv_cell
from app.services.review.report import Report

COLUMNS = (
    "cycle", "objective_id", "objective", "team", "objective_owner", "visibility",
    "objective_score", "objective_grade", "kr_id", "key_result", "kr_owner", "type", "start",
    "target", "current", "unit", "weight", "status", "computed", "self", "evidence", "final",
    "final_reason", "grade",
)


def _cell(value: object) -> object:
    """Scores and values to four significant digits; text neutralised (see ``csv_cell``)."""
    return f"{value:.4g}" if isinstance(value, float) else csv_cell(value)


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.objectives:
        o = row.view
        for kr in row.krs:
            v, s = kr.view, kr.scores
            writer.writerow([_cell(x) for x in (
                report.cycle.name, o.key, o.title, o.team_name, o.owner_name, o.visibility.value,
                round(row.used, 4), row.grade.value, v.key, v.title, v.owner_name,
                v.kr_type.value, v.start, v.target, v.current, v.unit, v.weight, v.status.value,
                round(v.score, 4),
                s.self_score if s else None, s.evidence if s else None,
                s.final if s else None, s.reason if s else None, kr.grade.value,
            )])
    return out.getvalue()
