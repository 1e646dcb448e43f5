"""Fiscal calendar: fiscal years and quarters, cycle names and date offsets. Pure.

A fiscal year starts on the first day of a configurable month (1-12) and is named by the
calendar year in which it *ends* (GitLab's convention): with a February start, FY23 runs from
2022-02-01 to 2023-01-31 and FY23-Q1 is 2022-02-01..2022-04-30. With a January start the fiscal
year is the calendar year. Names use two digits for 2000-2099 (``FY27-Q1``) and four otherwise;
both forms are accepted when parsing, case-insensitively.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from app.domain import CycleWindow

_QUARTER_NAME = re.compile(r"^\s*FY\s*(\d{2}|\d{4})\s*[-_ ]?\s*Q\s*(\d)\s*$", re.IGNORECASE)
_YEAR_NAME = re.compile(r"^\s*FY\s*(\d{2}|\d{4})\s*$", re.IGNORECASE)


def _check_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"fiscal year start month must be 1-12, got {start_month}")


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) moved by ``months``; month is 1-12."""
    zero_based = year * 12 + (month - 1) + months
    return zero_based // 12, zero_based % 12 + 1


def _first_of(year: int, month: int) -> date:
    if not 1 <= year <= 9999:
        raise ValueError(f"year {year} is outside the supported range 1-9999")
    return date(year, month, 1)


def _fy_label(fiscal_year: int) -> str:
    return f"FY{fiscal_year % 100:02d}" if 2000 <= fiscal_year <= 2099 else f"FY{fiscal_year}"


def _parse_year(digits: str) -> int:
    # Two digits always mean 20xx: OKR cycles live in this century.
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def fiscal_year_of(d: date, start_month: int) -> int:
    """The number of the fiscal year containing ``d`` (the calendar year it ends in)."""
    _check_month(start_month)
    if start_month == 1:
        return d.year
    return d.year + 1 if d.month >= start_month else d.year


def fiscal_quarter_of(d: date, start_month: int) -> int:
    """The fiscal quarter (1-4) containing ``d``."""
    _check_month(start_month)
    return (d.month - start_month) % 12 // 3 + 1


def _quarter_window(fiscal_year: int, quarter: int, start_month: int) -> CycleWindow:
    # FY N starts in calendar year N - 1 unless the fiscal year is the calendar year.
    first_year = fiscal_year if start_month == 1 else fiscal_year - 1
    y, m = _add_months(first_year, start_month, 3 * (quarter - 1))
    ny, nm = _add_months(y, m, 3)
    start = _first_of(y, m)
    end = _first_of(ny, nm) - timedelta(days=1)
    return CycleWindow(name=f"{_fy_label(fiscal_year)}-Q{quarter}", start=start, end=end)


def _year_window(fiscal_year: int, start_month: int) -> CycleWindow:
    first = _quarter_window(fiscal_year, 1, start_month)
    last = _quarter_window(fiscal_year, 4, start_month)
    return CycleWindow(name=_fy_label(fiscal_year), start=first.start, end=last.end)


def parse_quarter_name(name: str) -> tuple[int, int]:
    """``"FY27-Q1"`` / ``"fy2027-q1"`` -> ``(2027, 1)``; ValueError with the expected form."""
    match = _QUARTER_NAME.match(name)
    if match is None:
        raise ValueError(
            f"not a fiscal quarter name: {name!r}; expected FY<yy>-Q<1-4>, e.g. FY27-Q1 "
            "or FY2027-Q1"
        )
    quarter = int(match.group(2))
    if not 1 <= quarter <= 4:
        raise ValueError(f"not a fiscal quarter name: {name!r}; the quarter must be Q1 to Q4")
    return _parse_year(match.group(1)), quarter


def fiscal_quarter(name: str, start_month: int) -> CycleWindow:
    """The window of a named fiscal quarter, e.g. ``FY23-Q1`` (Feb start) = 2022-02-01..04-30."""
    _check_month(start_month)
    fiscal_year, quarter = parse_quarter_name(name)
    return _quarter_window(fiscal_year, quarter, start_month)


def fiscal_year(name: str, start_month: int) -> CycleWindow:
    """The window of a named fiscal year (``FY27`` or ``FY2027``)."""
    _check_month(start_month)
    match = _YEAR_NAME.match(name)
    if match is None:
        raise ValueError(
            f"not a fiscal year name: {name!r}; expected FY<yy>, e.g. FY27 or FY2027"
        )
    return _year_window(_parse_year(match.group(1)), start_month)


def quarter_containing(d: date, start_month: int) -> CycleWindow:
    return _quarter_window(fiscal_year_of(d, start_month), fiscal_quarter_of(d, start_month),
                           start_month)


def year_containing(d: date, start_month: int) -> CycleWindow:
    return _year_window(fiscal_year_of(d, start_month), start_month)


def quarter_name(d: date, start_month: int) -> str:
    """The name of the fiscal quarter containing ``d``, e.g. ``"FY27-Q1"``."""
    return quarter_containing(d, start_month).name


def _as_window(window: CycleWindow | str, start_month: int) -> CycleWindow:
    return fiscal_quarter(window, start_month) if isinstance(window, str) else window


def next_quarter(window: CycleWindow | str, start_month: int) -> CycleWindow:
    """The fiscal quarter starting the day after ``window`` ends (Q4 -> next FY's Q1)."""
    return quarter_containing(_as_window(window, start_month).end + timedelta(days=1),
                              start_month)


def previous_quarter(window: CycleWindow | str, start_month: int) -> CycleWindow:
    """The fiscal quarter ending the day before ``window`` starts (Q1 -> last FY's Q4)."""
    return quarter_containing(_as_window(window, start_month).start - timedelta(days=1),
                              start_month)


def days_offset(window: CycleWindow, days: int, *, anchor: Literal["start", "end"]) -> date:
    """``days`` after the window's first (``anchor="start"``) or last day; negative is before."""
    base = window.start if anchor == "start" else window.end
    return base + timedelta(days=days)


def weeks_before_start(window: CycleWindow, n: int) -> date:
    """The date ``7 * n`` days before the window's first day (same weekday as the start)."""
    return days_offset(window, -7 * n, anchor="start")


def weeks_after_end(window: CycleWindow, n: int) -> date:
    """The date ``7 * n`` days after the window's last day (same weekday as the end)."""
    return days_offset(window, 7 * n, anchor="end")


def day_of_cycle(window: CycleWindow, today: date) -> tuple[int, int]:
    """``(day, total)``: day 1 is the first day of the window, ``total`` its last.

    Before the window the day is 0; after it, ``total``.
    """
    total = window.days
    day = (today - window.start).days + 1
    return min(max(day, 0), total), total


def days_left(window: CycleWindow, today: date) -> int:
    """Whole days remaining after ``today`` until the window ends: 0 on the last day and
    after, ``total`` before the window starts. ``day + days_left == total`` throughout.
    """
    day, total = day_of_cycle(window, today)
    return total - day
