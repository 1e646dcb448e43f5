"""When check-ins (and digests) are due: pure functions of a schedule, a time zone and ``now``.

Occurrences are computed on *local dates* first, then localised with zoneinfo: a local time
that does not exist (a DST gap) moves forward to the first valid instant after the gap, and an
ambiguous one (a DST fold) takes the first instant (``fold=0``). The occurrence key is the local
date, so a person is asked at most once per occurrence date whatever the offsets do.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKS = {"weekly": 1, "biweekly": 2, "every_3_weeks": 3, "every_4_weeks": 4}
CADENCES = (*WEEKS, "monthly")
# Multi-week cadences count weeks from this Monday unless the schedule (or the cycle) gives an
# anchor, so "every 2 weeks" means the same weeks in every process and every tick.
EPOCH = date(2024, 1, 1)

# The anchor of a multi-week cadence: a date, or a function of the occurrence date (e.g. the
# start of the cycle containing it), or None for the epoch.
Anchor = date | Callable[[date], date | None] | None


class ScheduleError(ValueError):
    """A schedule dict that cannot be understood; ``path`` names the offending key."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Schedule:
    cadence: str = "weekly"
    days: tuple[int, ...] = (0,)  # 0 = Monday
    at: time = time(10, 0)
    nth: int | None = None  # monthly: 1..5 or -1 (last) weekday of the month
    day_of_month: int | None = None  # monthly: 1..31, clamped to the month's last day
    anchor: date | None = None  # multi-week cadences: a date in an "on" week

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cadence": self.cadence, "time": self.at.strftime("%H:%M")}
        if self.day_of_month is None:
            names = [WEEKDAYS[d] for d in self.days]
            out["day"] = names[0] if len(names) == 1 else names
        if self.nth is not None:
            out["nth"] = self.nth
        if self.day_of_month is not None:
            out["day_of_month"] = self.day_of_month
        if self.anchor is not None:
            out["anchor"] = self.anchor.isoformat()
        return out

    def describe(self) -> str:
        """Plain words, e.g. "every 2 weeks on Mon and Thu at 10:00"."""
        hhmm = self.at.strftime("%H:%M")
        names = " and ".join(WEEKDAYS[d].capitalize() for d in self.days)
        if self.cadence == "monthly":
            if self.day_of_month is not None:
                return f"monthly on day {self.day_of_month} at {hhmm}"
            which = "last" if self.nth == -1 else _ordinal(self.nth or 1)
            return f"monthly on the {which} {names} at {hhmm}"
        every = "every week" if self.cadence == "weekly" else f"every {WEEKS[self.cadence]} weeks"
        return f"{every} on {names} at {hhmm}"


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


DEFAULT_CHECKIN = Schedule()
DEFAULT_DIGEST = Schedule(days=(4,), at=time(16, 0))


def parse(data: Mapping[str, Any] | None, *, default: Schedule = DEFAULT_CHECKIN,
          path: str = "schedule") -> Schedule:
    """Read a stored schedule dict (the import file's ``checkin:``/``digest:`` shape).

    Missing keys take the default's values; ``None`` is the default itself.
    """
    if data is None:
        return default
    if not isinstance(data, Mapping):
        raise ScheduleError("must be a mapping like {cadence: weekly, day: mon}", path=path)
    unknown = set(data) - {"cadence", "day", "time", "nth", "day_of_month", "anchor"}
    if unknown:
        raise ScheduleError(f"unknown key {sorted(unknown)[0]!r}", path=path)
    cadence = str(data.get("cadence", "weekly"))
    if cadence not in CADENCES:
        raise ScheduleError(f"{cadence!r} is not one of {', '.join(CADENCES)}",
                            path=f"{path}.cadence")
    days = _days(data.get("day"), default.days, f"{path}.day")
    at = _time(data.get("time"), default.at, f"{path}.time")
    nth = data.get("nth")
    dom = data.get("day_of_month")
    if cadence != "monthly" and (nth is not None or dom is not None):
        raise ScheduleError("nth and day_of_month only apply to a monthly cadence", path=path)
    if nth is not None and (isinstance(nth, bool) or nth not in (1, 2, 3, 4, 5, -1)):
        raise ScheduleError("must be 1..5 or -1 (last)", path=f"{path}.nth")
    if dom is not None and (isinstance(dom, bool) or dom not in range(1, 32)):
        raise ScheduleError("must be a day of the month, 1..31", path=f"{path}.day_of_month")
    if nth is not None and dom is not None:
        raise ScheduleError("give nth (with day) or day_of_month, not both", path=path)
    if cadence == "monthly" and nth is not None and len(days) != 1:
        raise ScheduleError("nth needs one day, e.g. {nth: 1, day: mon}", path=f"{path}.day")
    if cadence == "monthly" and nth is None and dom is None:
        # "monthly on Tuesday" reads as the first Tuesday; plain "monthly" as the 1st.
        if data.get("day") is not None:
            nth = 1
            days = days[:1]
        else:
            dom = 1
    anchor = _anchor(data.get("anchor"), f"{path}.anchor")
    return Schedule(cadence=cadence, days=days, at=at, nth=nth, day_of_month=dom, anchor=anchor)


def _days(value: Any, default: tuple[int, ...], path: str) -> tuple[int, ...]:
    if value is None:
        return default
    items = value if isinstance(value, list | tuple) else [value]
    if not items:
        raise ScheduleError("list at least one day", path=path)
    out: list[int] = []
    for item in items:
        name = str(item).strip().lower()[:3]
        if name not in WEEKDAYS:
            raise ScheduleError(f"{item!r} is not a day (use {', '.join(WEEKDAYS)})", path=path)
        if WEEKDAYS.index(name) in out:
            raise ScheduleError("a day is listed twice", path=path)
        out.append(WEEKDAYS.index(name))
    return tuple(sorted(out))


def _time(value: Any, default: time, path: str) -> time:
    if value is None:
        return default
    text = str(value).strip()
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ScheduleError('must be "HH:MM" (24-hour, e.g. "09:30")', path=path) from None


def _anchor(value: Any, path: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ScheduleError("must be a date like 2026-02-02", path=path) from None


# --- local dates -------------------------------------------------------------------------------


def occurs_on(schedule: Schedule, day: date, *, anchor: Anchor = None) -> bool:
    """True when the schedule has an occurrence on this local date."""
    if schedule.cadence == "monthly":
        if schedule.day_of_month is not None:
            last = calendar.monthrange(day.year, day.month)[1]
            return day.day == min(schedule.day_of_month, last)
        if day.weekday() != schedule.days[0]:
            return False
        if schedule.nth == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == schedule.nth
    if day.weekday() not in schedule.days:
        return False
    every = WEEKS[schedule.cadence]
    if every == 1:
        return True
    base = schedule.anchor or (anchor(day) if callable(anchor) else anchor) or EPOCH
    weeks = (_monday(day) - _monday(base)).days // 7
    return weeks % every == 0


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_dates(schedule: Schedule, first: date, last: date, *,
                anchor: Anchor = None) -> Iterator[date]:
    """Occurrence dates in ``[first, last]``, in order."""
    day = first
    while day <= last:
        if occurs_on(schedule, day, anchor=anchor):
            yield day
        day += timedelta(days=1)


# --- localising --------------------------------------------------------------------------------


def exists(local: datetime) -> bool:
    """True when this wall time happens in its zone (it is not inside a DST gap)."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None, fold=0)


def localize(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local date and wall time.

    A wall time inside a DST gap becomes the first valid instant after the gap (the
    transition itself); an ambiguous one takes the earlier instant.
    """
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two
    if exists(local):
        return local.astimezone(UTC)
    # In a gap: fold=0 reads the wall time with the offset from before the transition,
    # fold=1 with the offset after it; the transition lies between the two instants.
    lo = int(local.replace(fold=1).astimezone(UTC).timestamp())
    hi = int(local.astimezone(UTC).timestamp())
    lo, hi = min(lo, hi), max(lo, hi)
    after = datetime.fromtimestamp(hi, UTC).astimezone(tz).utcoffset()
    while hi - lo > 1:  # the first second with the new offset
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True, slots=True, order=True)
class Occurrence:
    at: datetime  # UTC
    local_date: date

    @property
    def key(self) -> str:
        return self.local_date.isoformat()


def occurrences(schedule: Schedule, tz: ZoneInfo, after: datetime, until: datetime, *,
                anchor: Anchor = None) -> list[Occurrence]:
    """Occurrences with ``after < at <= until`` (both aware), in order.

    Consecutive windows ``(a, b]`` and ``(b, c]`` together give exactly the occurrences of
    ``(a, c]``: ticks may split time anywhere without losing or repeating one.
    """
    if until <= after:
        return []
    # A day of margin on each side: localising may move an instant across midnight.
    first = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    out: list[Occurrence] = []
    for day in local_dates(schedule, first, last, anchor=anchor):
        at = localize(day, schedule.at, tz)
        if after < at <= until:
            out.append(Occurrence(at=at, local_date=day))
    return out


def upcoming(schedule: Schedule, tz: ZoneInfo, after: datetime, count: int, *,
             anchor: Anchor = None, horizon_days: int = 400) -> list[Occurrence]:
    """The next ``count`` occurrences after ``after`` (within ``horizon_days``)."""
    out: list[Occurrence] = []
    day = after.astimezone(tz).date() - timedelta(days=1)
    end = day + timedelta(days=horizon_days)
    while day <= end and len(out) < count:
        if occurs_on(schedule, day, anchor=anchor):
            at = localize(day, schedule.at, tz)
            if at > after:
                out.append(Occurrence(at=at, local_date=day))
        day += timedelta(days=1)
    return out


def week_of(day: date) -> date:
    """The Monday of a local date's week (the key of "skip this week" and nudge caps)."""
    return _monday(day)
