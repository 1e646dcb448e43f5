"""Working days, hours and holiday calendars (app.calendar.workweek)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar.workweek import (
    MON_FRI,
    WorkWeek,
    WorkWeekError,
    calendar_problem,
    parse_days,
    parse_hours,
    resolve,
)

BERLIN = ZoneInfo("Europe/Berlin")
JERUSALEM = ZoneInfo("Asia/Jerusalem")
SUN_THU = parse_days(["sun", "mon", "tue", "wed", "thu"])


def test_days_and_hours_parse_and_refuse():
    assert parse_days(["mon", "tue", "wed", "thu", "fri"]) == MON_FRI
    assert parse_days("Sun, Mon,tue,wed,thu") == SUN_THU
    assert parse_hours("08:30-17:00") == (time(8, 30), time(17, 0))
    with pytest.raises(WorkWeekError, match="'funday' is not a day"):
        parse_days(["mon", "funday"])
    with pytest.raises(WorkWeekError, match="list of day names"):
        parse_days([])
    with pytest.raises(WorkWeekError, match="must come after"):
        parse_hours("19:00-08:00")
    with pytest.raises(WorkWeekError, match="span of hours"):
        parse_hours("9 to 5")


def test_calendar_codes():
    assert calendar_problem("DE-BY") is None
    assert calendar_problem("in-ka") is None
    assert "unknown holiday calendar 'XX'" in (calendar_problem("XX") or "")
    assert "subdivision" in (calendar_problem("DE-ZZ") or "")


def test_easter_monday_is_a_holiday_in_germany_not_in_the_us():
    easter_monday = date(2026, 4, 6)
    assert WorkWeek(calendar="DE-BY").why_not(easter_monday) == "Easter Monday"
    assert WorkWeek(calendar="US").is_working(easter_monday)
    assert WorkWeek(calendar="DE").next_working(easter_monday) == date(2026, 4, 7)


def test_a_sunday_is_not_a_working_day_unless_the_week_says_so():
    sunday = date(2026, 12, 6)
    assert WorkWeek().why_not(sunday) == "Sunday"
    assert WorkWeek().next_working(sunday) == date(2026, 12, 7)
    assert WorkWeek().previous_working(sunday) == date(2026, 12, 4)
    israel = WorkWeek(days=SUN_THU)
    assert israel.is_working(sunday)
    assert israel.why_not(date(2026, 12, 4)) == "Friday"
    assert israel.next_working(date(2026, 12, 4)) == sunday


def test_working_days_count_skip_weekends_and_holidays():
    week = WorkWeek(calendar="DE")
    thursday = date(2026, 4, 2)  # Good Friday and Easter Monday follow
    assert week.add_working_days(thursday, 1) == date(2026, 4, 7)
    assert week.add_working_days(thursday, 3) == date(2026, 4, 9)
    assert week.working_days_between(thursday, date(2026, 4, 9)) == 3
    assert WorkWeek().add_working_days(date(2026, 12, 4), 1) == date(2026, 12, 7)


def test_place_holds_a_late_dm_until_the_next_working_morning():
    at_21 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 21:00 in Berlin, a Tuesday
    assert WorkWeek().place(at_21, BERLIN) == datetime(2026, 12, 2, 8, 0, tzinfo=BERLIN)
    friday_21 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
    assert WorkWeek().place(friday_21, BERLIN) == datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)
    early = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 06:00 Berlin
    assert WorkWeek().place(early, BERLIN) == datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)
    inside = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert WorkWeek().place(inside, BERLIN) == inside
    # Thursday evening in Jerusalem for a Sunday-Thursday week: Sunday morning.
    thu = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert WorkWeek(days=SUN_THU).place(thu, JERUSALEM) == datetime(2026, 12, 6, 8, 0,
                                                                    tzinfo=JERUSALEM)


def test_no_working_day_in_reach_cannot_be_placed():
    assert WorkWeek(days=frozenset()).place(datetime(2026, 1, 1, tzinfo=UTC), BERLIN) is None
    assert WorkWeek(days=frozenset()).next_working(date(2026, 1, 1)) is None


def test_resolve_takes_each_part_from_the_most_specific_level():
    person = {"work_days": ["sun", "mon", "tue", "wed", "thu"]}
    team = {"work_days": ["mon"], "work_hours": "09:00-17:00", "holidays": "IL"}
    org = {"work_hours": "08:00-19:00"}
    week = resolve([person, team, org], org_calendar="DE")
    assert week.days == SUN_THU
    assert week.hours == (time(9), time(17))
    assert week.calendar == "IL"
    # A stored value that cannot be read passes to the next level.
    assert resolve([{"work_days": ["noday"]}, {"work_days": ["mon"]}]).days == frozenset({0})
    assert resolve([None, {}], org_calendar="us").calendar == "US"
    assert resolve([], extra={date(2026, 12, 24): "Company day off"}).why_not(
        date(2026, 12, 24)) == "Company day off"


ZONES = ["Europe/Berlin", "Asia/Jerusalem", "America/New_York", "Australia/Lord_Howe",
         "Asia/Kathmandu", "UTC"]


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
       st.sampled_from(ZONES), st.sets(st.integers(0, 6), min_size=1),
       st.sampled_from([None, "DE-BY", "US", "IN-KA", "IL"]))
def test_place_is_the_earliest_instant_inside_working_hours(naive, zone, days, calendar):
    tz = ZoneInfo(zone)
    instant = naive.replace(tzinfo=UTC)
    week = WorkWeek(days=frozenset(days), calendar=calendar)
    placed = week.place(instant, tz)
    assert placed is not None
    assert placed >= instant
    assert week.within_hours(placed, tz)
    # Nothing earlier works: one minute before is out of hours or before the instant.
    before = placed - timedelta(minutes=1)
    assert before < instant or not week.within_hours(before, tz)
