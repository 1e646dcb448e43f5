"""Where a prompt goes out: moved off non-working days, held to working hours (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.calendar.cadence import Schedule
from app.calendar.placement import NO_WORKING_DAY, OUTSIDE_HOURS, placed_occurrences
from app.calendar.workweek import WorkWeek

BERLIN, NEW_YORK, JERUSALEM = (ZoneInfo(z) for z in
                               ("Europe/Berlin", "America/New_York", "Asia/Jerusalem"))
MONDAY_TEN = Schedule()


def week_of_prompts(schedule: Schedule, tz: ZoneInfo, week: WorkWeek, first: date,
                    days: int = 7) -> list[tuple[str, str, str | None, str | None]]:
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    out = []
    for p in placed_occurrences(schedule, tz, week, start, start + timedelta(days=days)):
        out.append((p.key, p.at.astimezone(tz).strftime("%a %d %b %H:%M"), p.reason, p.skip))
    return out


def test_easter_monday_in_bavaria_moves_to_tuesday_while_new_york_is_prompted_monday() -> None:
    bavaria = WorkWeek(calendar="DE-BY")
    us = WorkWeek(calendar="US")
    assert week_of_prompts(MONDAY_TEN, BERLIN, bavaria, date(2026, 4, 6)) == [
        ("2026-04-06", "Tue 07 Apr 10:00", "Easter Monday", None)]
    assert week_of_prompts(MONDAY_TEN, NEW_YORK, us, date(2026, 4, 6)) == [
        ("2026-04-06", "Mon 06 Apr 10:00", None, None)]
    (placed,) = placed_occurrences(MONDAY_TEN, BERLIN, bavaria, datetime(2026, 4, 5, tzinfo=UTC),
                                   datetime(2026, 4, 8, tzinfo=UTC))
    assert placed.payload(BERLIN) == {"scheduled_at": "2026-04-06T08:00:00+00:00",
                                      "reason": "Easter Monday", "moved_from": "2026-04-06"}


def test_a_sunday_to_thursday_week_in_jerusalem_is_prompted_sunday_not_friday() -> None:
    friday = Schedule(days=(4,))
    week = WorkWeek(days=frozenset({6, 0, 1, 2, 3}))
    assert week_of_prompts(friday, JERUSALEM, week, date(2026, 3, 2), days=7) == [
        ("2026-03-06", "Sun 08 Mar 10:00", "Friday", None)]
    sunday = Schedule(days=(6,))
    assert week_of_prompts(sunday, JERUSALEM, week, date(2026, 3, 1)) == [
        ("2026-03-01", "Sun 01 Mar 10:00", None, None)]


def test_early_and_evening_prompts_wait_for_working_hours() -> None:
    week = WorkWeek()
    seven = Schedule(at=time(7, 0))
    assert week_of_prompts(seven, BERLIN, week, date(2026, 3, 2)) == [
        ("2026-03-02", "Mon 02 Mar 08:00", OUTSIDE_HOURS, None)]
    evening = Schedule(days=(4,), at=time(21, 0))  # Friday evening: Monday morning
    assert week_of_prompts(evening, BERLIN, week, date(2026, 3, 6), days=4) == [
        ("2026-03-06", "Mon 09 Mar 08:00", OUTSIDE_HOURS, None)]
    (placed,) = placed_occurrences(evening, BERLIN, week, datetime(2026, 3, 6, tzinfo=UTC),
                                   datetime(2026, 3, 10, tzinfo=UTC))
    assert placed.payload(BERLIN)["moved_from"] == "2026-03-06"


def test_two_prompts_landing_on_one_day_go_out_once() -> None:
    # Monday and Tuesday check-ins; Easter Monday's would land on Tuesday's.
    both = Schedule(days=(0, 1))
    assert week_of_prompts(both, BERLIN, WorkWeek(calendar="DE"), date(2026, 4, 6), days=2) == [
        ("2026-04-06", "Tue 07 Apr 10:00", "Easter Monday",
         "another prompt goes out on Tue 7 Apr"),
        ("2026-04-07", "Tue 07 Apr 10:00", None, None)]


def test_no_working_day_in_reach_is_recorded_at_the_scheduled_time() -> None:
    closed = {date(2026, 8, 1) + timedelta(days=n): "summer closing" for n in range(40)}
    week = WorkWeek(extra=closed)
    assert week_of_prompts(MONDAY_TEN, BERLIN, week, date(2026, 8, 3)) == [
        ("2026-08-03", "Mon 03 Aug 10:00", None, NO_WORKING_DAY)]
    assert NO_WORKING_DAY == "no working day within 31 days"


def test_describe_reads_sunday_weeks_from_sunday() -> None:
    week = WorkWeek(days=frozenset({6, 0, 1, 2, 3}), calendar="IL")
    assert week.describe() == "Working days Sun, Mon, Tue, Wed, Thu, 08:00-19:00, holidays IL"
    assert WorkWeek().describe() == ("Working days Mon, Tue, Wed, Thu, Fri, 08:00-19:00, "
                                     "no public holidays")
