"""Hypothesis strategies shared by the scheduling rule tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from app.calendar.cadence import Schedule
from app.calendar.workweek import WorkWeek

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
         "America/Nuuk", "UTC"]

# Local times that fall into gaps or folds in some of the zones above (02:00-03:00 in
# Europe and New York, 02:00-02:30 on Lord Howe, 22:00-23:00 / 23:00-00:00 in Nuuk).
TIMES = st.sampled_from([time(0, 0), time(1, 30), time(2, 0), time(2, 15), time(2, 30),
                         time(2, 59), time(9, 0), time(10, 0), time(16, 0), time(21, 30),
                         time(22, 0), time(22, 30), time(23, 0), time(23, 45)]) | st.builds(
    time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))

DAYS = st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True).map(
    lambda d: tuple(sorted(d)))


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    kind = draw(st.sampled_from(["weekly", "biweekly", "every_3_weeks", "every_4_weeks",
                                 "monthly-nth", "monthly-dom"]))
    at = draw(TIMES)
    if kind == "monthly-nth":
        return Schedule(cadence="monthly", days=(draw(st.integers(0, 6)),), at=at,
                        nth=draw(st.sampled_from([1, 2, 3, 4, 5, -1])))
    if kind == "monthly-dom":
        return Schedule(cadence="monthly", at=at, day_of_month=draw(st.integers(1, 31)))
    anchor = draw(st.none() | st.dates(date(2024, 1, 1), date(2027, 1, 1)))
    return Schedule(cadence=kind, days=draw(DAYS), at=at, anchor=anchor)


# Windows around the DST transitions of 2026 in the zones above, and anywhere else.
TRANSITIONS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC),
               datetime(2026, 4, 5, tzinfo=UTC), datetime(2026, 10, 4, tzinfo=UTC),
               datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
               datetime(2026, 3, 28, tzinfo=UTC)]
STARTS = st.sampled_from(TRANSITIONS).flatmap(
    lambda t: st.integers(-10 * 24, 3 * 24).map(lambda h: t + timedelta(hours=h))
) | st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1)).map(lambda d: d.replace(tzinfo=UTC))


# Working weeks: any non-empty set of days (Sun-Thu and six-day weeks included), hours that
# start early or late, a holiday calendar of one of the places the demo company works in, and
# the organisation's own days off, up to runs longer than the search reach (no working day).
CALENDARS = st.sampled_from([None, "DE-BY", "US", "IN-KA", "IL", "AU-NSW"])
HOURS = st.sampled_from([(time(8, 0), time(19, 0)), (time(9, 0), time(17, 30)),
                         (time(7, 0), time(15, 0)), (time(10, 0), time(10, 30)),
                         (time(0, 0), time(23, 59)), (time(2, 0), time(3, 0))])


@st.composite
def days_off(draw: st.DrawFn) -> dict[date, str]:
    out: dict[date, str] = {}
    for first in draw(st.lists(st.dates(date(2024, 12, 1), date(2028, 2, 1)), max_size=4)):
        for n in range(draw(st.sampled_from([1, 1, 2, 5, 9, 40]))):
            out[first + timedelta(days=n)] = "day off"
    return out


@st.composite
def work_weeks(draw: st.DrawFn) -> WorkWeek:
    days = draw(st.sampled_from([frozenset(range(5)), frozenset({6, 0, 1, 2, 3}),
                                 frozenset(range(6)), frozenset({0})])
                | st.frozensets(st.integers(0, 6), min_size=1))
    return WorkWeek(days=days, hours=draw(HOURS), calendar=draw(CALENDARS),
                    extra=draw(days_off()))


# Working weeks as stored on a person: any non-empty set of weekdays (Mon = 0).
WORK_DAYS = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(
    lambda d: tuple(sorted(d)))
WORK_HOURS = st.sampled_from(["08:00-19:00", "09:00-17:00", "06:30-14:00", "12:00-23:30"])


def tick_splits(start: datetime, end: datetime, *, max_gap_hours: int = 30,
                min_gap_hours: int = 0, max_ticks: int = 40) -> st.SearchStrategy[list[datetime]]:
    """Random tick instants from ``start`` to ``end`` (both included), gaps of a minute to
    ``max_gap_hours``: how any number of processes may happen to tick."""
    gaps = st.lists(st.integers(max(1, min_gap_hours * 60), max_gap_hours * 60), min_size=1,
                    max_size=max_ticks)

    def build(minutes: list[int]) -> list[datetime]:
        # The gaps repeat until ``end``: no gap is longer than ``max_gap_hours``.
        out, at, n = [start], start, 0
        while at < end:
            at = min(at + timedelta(minutes=minutes[n % len(minutes)]), end)
            out.append(at)
            n += 1
        return out

    return gaps.map(build)
