"""When people work: working days, working hours and holiday calendars, as pure functions.

A :class:`WorkWeek` is what one person (or a team, or the organisation) works: the weekdays,
the hours of a working day in their own zone, and the holidays that apply to them. The
scheduler uses it to move a prompt off a non-working day, to hold a DM until working hours,
and to count "after N working days".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from app.calendar import cadence

DAY_NAMES = cadence.WEEKDAYS  # ("mon", ..., "sun"); index = date.weekday()
LONG_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MON_FRI = frozenset(range(5))
DEFAULT_HOURS = (time(8, 0), time(19, 0))
# How far a moved date is looked for: past this a date "cannot be placed" (recorded as such).
MAX_SEARCH_DAYS = 31


class WorkWeekError(ValueError):
    """A working-week value that cannot be understood; ``path`` names the offending key."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def parse_days(value: Any, *, path: str = "work_days") -> frozenset[int]:
    """``["sun", "mon", ...]`` (or a comma-separated string) -> weekday numbers (Mon = 0)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Sequence) or isinstance(items, bytes) or not items:
        raise WorkWeekError("give a list of day names, e.g. [mon, tue, wed, thu, fri]", path=path)
    out: set[int] = set()
    for item in items:
        name = str(item).strip().lower()[:3]
        if name not in DAY_NAMES:
            raise WorkWeekError(f"{str(item)[:20]!r} is not a day (mon ... sun)", path=path)
        out.add(DAY_NAMES.index(name))
    return frozenset(out)


def day_names(days: Iterable[int]) -> list[str]:
    """Weekday numbers -> day names in the given order (sorted Monday first for a set)."""
    items = list(days) if isinstance(days, list) else sorted(set(days))
    return [DAY_NAMES[d] for d in items]


def _week_order(days: Iterable[int]) -> list[int]:
    """A week that includes Sunday but not Saturday reads from Sunday (Sun-Thu)."""
    ordered = sorted(set(days))
    if 6 in ordered and 5 not in ordered:
        return [6, *[d for d in ordered if d != 6]]
    return ordered


def parse_hours(value: Any, *, path: str = "work_hours") -> tuple[time, time]:
    """``"08:00-19:00"`` -> (start, end); the end must come after the start."""
    text = str(value or "").strip()
    start_text, sep, end_text = text.partition("-")
    try:
        if not sep:
            raise ValueError
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError:
        raise WorkWeekError(f"{text[:20]!r} is not a span of hours like 08:00-19:00",
                            path=path) from None
    if end <= start:
        raise WorkWeekError("the end of the working day must come after its start", path=path)
    return start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)


def format_hours(hours: tuple[time, time]) -> str:
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


@lru_cache(maxsize=512)
def _calendar(code: str, year: int) -> Mapping[date, str]:
    country, _, subdiv = code.upper().partition("-")
    try:
        cal = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except (NotImplementedError, KeyError, ValueError):
        return {}
    return dict(cal.items())


def calendar_problem(code: str) -> str | None:
    """Why a holiday calendar code is refused (None: the ``holidays`` package knows it)."""
    country, _, subdiv = str(code).upper().partition("-")
    if not _known(country, None):
        return f"unknown holiday calendar {str(code)[:16]!r} (a country code such as DE or US)"
    if subdiv and not _known(country, subdiv):
        return (f"unknown holiday calendar {str(code)[:16]!r} "
                f"(a country code with a subdivision such as DE-BY or IN-KA)")
    return None


@lru_cache(maxsize=256)
def _known(country: str, subdiv: str | None) -> bool:
    try:
        holidays.country_holidays(country, subdiv=subdiv, years=2026)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class WorkWeek:
    """The working days, hours and holidays of one person (or team, or organisation)."""

    days: frozenset[int] = MON_FRI
    hours: tuple[time, time] = DEFAULT_HOURS
    calendar: str | None = None  # a ``holidays`` code: "DE", "DE-BY", "US", "IN-KA"
    extra: Mapping[date, str] = field(default_factory=dict)  # the organisation's own days off

    def describe(self) -> str:
        """Plain words, e.g. "Working days Sun, Mon, Tue, Wed, Thu, 08:00-19:00, holidays DE-BY"."""
        names = ", ".join(d.capitalize() for d in day_names(_week_order(self.days)))
        holidays_text = f"holidays {self.calendar}" if self.calendar else "no public holidays"
        return f"Working days {names}, {format_hours(self.hours)}, {holidays_text}"

    def holiday(self, day: date) -> str | None:
        """The holiday's name on ``day``, or None."""
        if day in self.extra:
            return self.extra[day]
        if self.calendar:
            return _calendar(self.calendar, day.year).get(day)
        return None

    def why_not(self, day: date) -> str | None:
        """Why ``day`` is not a working day ("Easter Monday", "Sunday"), or None if it is."""
        name = self.holiday(day)
        if name:
            return name
        if day.weekday() not in self.days:
            return LONG_NAMES[day.weekday()]
        return None

    def is_working(self, day: date) -> bool:
        return self.why_not(day) is None

    def next_working(self, day: date) -> date | None:
        """``day`` itself if it is a working day, else the next one (None: none in reach)."""
        for n in range(MAX_SEARCH_DAYS + 1):
            candidate = day + timedelta(days=n)
            if self.is_working(candidate):
                return candidate
        return None

    def previous_working(self, day: date) -> date | None:
        """``day`` itself if it is a working day, else the one before (None: none in reach)."""
        for n in range(MAX_SEARCH_DAYS + 1):
            candidate = day - timedelta(days=n)
            if self.is_working(candidate):
                return candidate
        return None

    def add_working_days(self, day: date, count: int) -> date | None:
        """The ``count``-th working day after ``day`` (``day`` itself does not count)."""
        found, current = 0, day
        for _ in range(count * 7 + MAX_SEARCH_DAYS):
            current += timedelta(days=1)
            if self.is_working(current):
                found += 1
                if found >= count:
                    return current
        return None

    def working_days_between(self, first: date, last: date) -> int:
        """Working days in ``(first, last]``: how many working days have passed since ``first``."""
        return sum(1 for n in range(1, (last - first).days + 1)
                   if self.is_working(first + timedelta(days=n)))

    def within_hours(self, instant: datetime, tz: ZoneInfo) -> bool:
        local = instant.astimezone(tz)
        start, end = self.hours
        return self.is_working(local.date()) and start <= local.time() < end

    def place(self, instant: datetime, tz: ZoneInfo) -> datetime | None:
        """The earliest instant at or after ``instant`` inside working hours on a working day
        in ``tz`` (None: no working day within reach). Aware datetimes in, aware out."""
        local = instant.astimezone(tz)
        start, end = self.hours
        day = local.date()
        if self.is_working(day) and local.time() < end:
            if local.time() >= start:
                return instant
            return cadence.localize(day, start, tz)
        following = self.next_working(day + timedelta(days=1))
        return None if following is None else cadence.localize(following, start, tz)


def resolve(levels: Sequence[Mapping[str, Any] | None], *, org_calendar: str | None = None,
            extra: Mapping[date, str] | None = None) -> WorkWeek:
    """The work week from the most specific level that sets each part.

    ``levels`` go from the most specific (the person) to the least (the organisation); each is
    a mapping with optional ``work_days`` (list of names), ``work_hours`` ("08:00-19:00") and
    ``holidays`` (a calendar code). A stored value that cannot be read is passed over, so the
    next level applies. The organisation's calendar and its own days off come last.
    """
    days: frozenset[int] | None = None
    hours: tuple[time, time] | None = None
    calendar: str | None = None
    for level in levels:
        if not level:
            continue
        if days is None and level.get("work_days"):
            with contextlib.suppress(WorkWeekError):
                days = parse_days(level["work_days"])
        if hours is None and level.get("work_hours"):
            with contextlib.suppress(WorkWeekError):
                hours = parse_hours(level["work_hours"])
        if calendar is None and level.get("holidays"):
            code = str(level["holidays"])
            if calendar_problem(code) is None:
                calendar = code.upper()
    return WorkWeek(days=days if days is not None else MON_FRI,
                    hours=hours or DEFAULT_HOURS,
                    calendar=calendar or (org_calendar.upper() if org_calendar else None),
                    extra=dict(extra or {}))
