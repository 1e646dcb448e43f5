"""The working-week values of an import file (``work_days``, ``work_hours``, ``holidays``) as
pydantic types, read with :mod:`app.calendar.workweek` so the file, My settings and the
scheduler agree on what is valid. Each is stored in its normal form."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from app.calendar import workweek


def _days(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        raise ValueError("give a list of day names, e.g. [mon, tue, wed, thu, fri]")
    try:
        days = workweek.parse_days(value)
    except workweek.WorkWeekError as exc:
        raise ValueError(exc.message) from None
    if len(days) != len(value):
        raise ValueError("a day is listed twice")
    return workweek.day_names(days)


def _hours(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('must be "HH:MM-HH:MM" in quotes, e.g. "08:00-19:00"')
    try:
        return workweek.format_hours(workweek.parse_hours(value))
    except workweek.WorkWeekError as exc:
        raise ValueError(exc.message) from None


def _calendar(value: Any) -> str:
    code = str(value).strip() if isinstance(value, str) else ""
    if not code or len(code) > 16:
        raise ValueError("give a holiday calendar code such as DE, DE-BY, US or IN-KA")
    problem = workweek.calendar_problem(code)
    if problem:
        raise ValueError(problem)
    return code.upper()


WorkDays = Annotated[list[str], BeforeValidator(_days)]
WorkHours = Annotated[str, BeforeValidator(_hours)]
HolidayCalendar = Annotated[str, BeforeValidator(_calendar)]
