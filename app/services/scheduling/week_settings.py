"""Working-week values typed in Slack (My settings, the organisation's settings): checked by
the same rules as the import file (``app.calendar.workweek``), keyed by form field for inline
errors. Empty means "inherit" (None)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from app.calendar import workweek


def work_days(raw: Any, errors: dict[str, str]) -> list[str] | None:
    if not raw:
        return None
    try:
        return workweek.day_names(workweek.parse_days(raw))
    except workweek.WorkWeekError as exc:
        errors["work_days"] = exc.message
        return None


def work_hours(raw: Any, errors: dict[str, str]) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return workweek.format_hours(workweek.parse_hours(text))
    except workweek.WorkWeekError as exc:
        errors["work_hours"] = exc.message
        return None


def holiday_calendar(raw: Any, errors: dict[str, str]) -> str | None:
    code = str(raw or "").strip().upper()
    if not code:
        return None
    problem = workweek.calendar_problem(code) if len(code) <= 16 else "a code such as DE-BY"
    if problem:
        errors["holiday_calendar"] = problem
        return None
    return code


def week_of(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``work_days`` and ``work_hours`` from a form."""
    return {"work_days": work_days(raw.get("work_days"), errors),
            "work_hours": work_hours(raw.get("work_hours"), errors)}


def away_problem(away_from: date | None, away_until: date | None) -> str | None:
    if away_from is None:
        return None
    if away_until is None:
        return "give the last day away too"
    if away_from > away_until:
        return f"is after the last day away ({away_until.isoformat()})"
    return None
