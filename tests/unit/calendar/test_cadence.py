"""Scheduling rules as pure functions of ``now``, across time zones and DST transitions."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import cadence
from app.calendar.cadence import Schedule, ScheduleError, exists, localize, occurrences
from app.calendar.placement import placed_occurrences
from app.calendar.workweek import MAX_SEARCH_DAYS, WorkWeek
from tests.scheduler.strategies import STARTS, ZONES, schedules, work_weeks


@settings(max_examples=300, deadline=None)
@given(schedules(), st.sampled_from(ZONES), STARTS, st.integers(1, 24 * 40))
def test_occurrences_exist_are_unique_and_follow_the_rule(
    schedule: Schedule, zone: str, start: datetime, hours: int
) -> None:
    tz = ZoneInfo(zone)
    end = start + timedelta(hours=hours)
    occ = occurrences(schedule, tz, start, end)
    keys = [o.local_date for o in occ]
    assert len(keys) == len(set(keys)), "at most one per local occurrence date"
    assert [o.at for o in occ] == sorted(o.at for o in occ)
    for o in occ:
        assert start < o.at <= end
        local = o.at.astimezone(tz)
        assert exists(local.replace(fold=0)) or exists(local), "never a non-existent local time"
        assert cadence.occurs_on(schedule, o.local_date)
        wall = datetime.combine(o.local_date, schedule.at, tzinfo=tz)
        if exists(wall):
            # The first of two when ambiguous, exactly the wall time otherwise.
            assert local.replace(tzinfo=None) == wall.replace(tzinfo=None)
            assert o.at == wall.astimezone(UTC)
        else:
            # In a gap: moved forward to the first valid instant, not beyond the gap.
            assert local.replace(tzinfo=None) > wall.replace(tzinfo=None)
            before = (o.at - timedelta(seconds=1)).astimezone(tz)
            assert before.utcoffset() != local.utcoffset(), "lands on the transition"


@settings(max_examples=200, deadline=None)
@given(schedules(), st.sampled_from(ZONES), STARTS, st.integers(1, 24 * 30),
       st.integers(1, 24 * 30))
def test_split_windows_neither_lose_nor_repeat(
    schedule: Schedule, zone: str, start: datetime, first: int, second: int
) -> None:
    tz = ZoneInfo(zone)
    mid = start + timedelta(hours=first)
    end = mid + timedelta(hours=second)
    whole = occurrences(schedule, tz, start, end)
    parts = occurrences(schedule, tz, start, mid) + occurrences(schedule, tz, mid, end)
    assert whole == parts


@settings(max_examples=200, deadline=None)
@given(schedules(), st.sampled_from(ZONES), STARTS)
def test_upcoming_agrees_with_occurrences(schedule: Schedule, zone: str, start: datetime) -> None:
    tz = ZoneInfo(zone)
    nxt = cadence.upcoming(schedule, tz, start, 3)
    assert len(nxt) == 3
    assert nxt == occurrences(schedule, tz, start, nxt[-1].at)


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected_local"),
    [
        # Spring forward: 02:30 does not exist; the first valid instant is 03:00.
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), "2026-03-29T03:00:00+02:00"),
        ("America/New_York", date(2026, 3, 8), time(2, 0), "2026-03-08T03:00:00-04:00"),
        # Lord Howe moves by 30 minutes: 02:00-02:30 is the gap.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 10), "2026-10-04T02:30:00+11:00"),
        # Fall back: 02:30 happens twice in Berlin; the first is at +02:00.
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), "2026-10-25T02:30:00+02:00"),
        ("America/New_York", date(2026, 11, 1), time(1, 30), "2026-11-01T01:30:00-04:00"),
        ("Asia/Kathmandu", date(2026, 3, 2), time(10, 0), "2026-03-02T10:00:00+05:45"),
        # Ordinary Monday, both sides of a switch: same wall time, different UTC.
        ("Europe/Berlin", date(2026, 3, 23), time(10, 0), "2026-03-23T10:00:00+01:00"),
        ("Europe/Berlin", date(2026, 3, 30), time(10, 0), "2026-03-30T10:00:00+02:00"),
    ],
)
def test_localize_gaps_and_folds(zone: str, day: date, at: time, expected_local: str) -> None:
    tz = ZoneInfo(zone)
    got = localize(day, at, tz).astimezone(tz)
    assert got.isoformat() == expected_local


def test_weekly_monday_ten_oclock_stays_at_ten_across_dst() -> None:
    tz = ZoneInfo("Europe/Berlin")
    occ = occurrences(Schedule(), tz, datetime(2026, 3, 15, tzinfo=UTC),
                      datetime(2026, 4, 7, tzinfo=UTC))
    assert [o.at.astimezone(tz).strftime("%a %d %H:%M") for o in occ] == [
        "Mon 16 10:00", "Mon 23 10:00", "Mon 30 10:00", "Mon 06 10:00"]
    assert [o.at.hour for o in occ] == [9, 9, 8, 8]


def test_biweekly_counts_weeks_from_the_anchor() -> None:
    sched = Schedule(cadence="biweekly", days=(0, 3), anchor=date(2026, 2, 4))
    dates = list(cadence.local_dates(sched, date(2026, 2, 1), date(2026, 3, 1)))
    assert dates == [date(2026, 2, 2), date(2026, 2, 5), date(2026, 2, 16), date(2026, 2, 19)]


def test_monthly_rules() -> None:
    last_fri = Schedule(cadence="monthly", days=(4,), nth=-1)
    assert list(cadence.local_dates(last_fri, date(2026, 1, 1), date(2026, 3, 31))) == [
        date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]
    fifth_mon = Schedule(cadence="monthly", days=(0,), nth=5)
    assert list(cadence.local_dates(fifth_mon, date(2026, 1, 1), date(2026, 6, 30))) == [
        date(2026, 3, 30), date(2026, 6, 29)]
    dom31 = Schedule(cadence="monthly", day_of_month=31)
    assert list(cadence.local_dates(dom31, date(2026, 1, 1), date(2026, 4, 30))) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_parse_reads_the_import_shape_and_round_trips() -> None:
    s = cadence.parse({"cadence": "biweekly", "day": ["thu", "mon"], "time": "09:30",
                       "anchor": "2026-02-02"})
    assert s == Schedule(cadence="biweekly", days=(0, 3), at=time(9, 30),
                         anchor=date(2026, 2, 2))
    assert cadence.parse(s.to_dict()) == s
    assert cadence.parse({"cadence": "monthly", "day": "tue"}).nth == 1
    assert cadence.parse({"cadence": "monthly"}).day_of_month == 1
    assert cadence.parse(None, default=cadence.DEFAULT_DIGEST).days == (4,)
    assert cadence.parse({"time": "08:00"}, default=cadence.DEFAULT_DIGEST).days == (4,)
    assert s.describe() == "every 2 weeks on Mon and Thu at 09:30"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"cadence": "daily"}, "schedule.cadence"),
        ({"day": "funday"}, "schedule.day"),
        ({"time": "25:00"}, "schedule.time"),
        ({"time": 600}, "schedule.time"),
        ({"nth": 2}, "schedule"),
        ({"cadence": "monthly", "nth": 7, "day": "mon"}, "schedule.nth"),
        ({"cadence": "monthly", "day_of_month": 32}, "schedule.day_of_month"),
        ({"cadence": "monthly", "nth": 1, "day": ["mon", "tue"]}, "schedule.day"),
        ({"every": "week"}, "schedule"),
        ({"anchor": "soon"}, "schedule.anchor"),
    ],
)
def test_parse_names_the_offending_key(data: dict[str, object], path: str) -> None:
    with pytest.raises(ScheduleError) as err:
        cadence.parse(data)
    assert err.value.path == path


# --- placed in a working week -----------------------------------------------------------------


def _placements(schedule: Schedule, tz: ZoneInfo, week: WorkWeek, start: datetime,
                end: datetime) -> list[tuple[str, datetime, str | None]]:
    return [(p.key, p.at, p.skip) for p in placed_occurrences(schedule, tz, week, start, end)]


@settings(max_examples=200, deadline=None)
@given(schedules(), st.sampled_from(ZONES), work_weeks(), STARTS,
       st.lists(st.integers(1, 24 * 9), min_size=1, max_size=6))
def test_placed_split_windows_neither_lose_nor_repeat(
    schedule: Schedule, zone: str, week: WorkWeek, start: datetime, steps: list[int]
) -> None:
    tz = ZoneInfo(zone)
    cuts = [start]
    for hours in steps:
        cuts.append(cuts[-1] + timedelta(hours=hours))
    whole = _placements(schedule, tz, week, cuts[0], cuts[-1])
    parts = [p for a, b in itertools.pairwise(cuts)
             for p in _placements(schedule, tz, week, a, b)]
    assert whole == parts
    keys = [key for key, _, _ in whole]
    assert len(keys) == len(set(keys)), "a moved prompt is never due twice"


@settings(max_examples=150, deadline=None)
@given(schedules(), st.sampled_from(ZONES), work_weeks(), STARTS,
       st.lists(st.integers(1, 24 * 3), min_size=1, max_size=30), st.integers(1, 12))
def test_ticks_place_every_occurrence_once_sent_or_skipped_with_a_reason(
    schedule: Schedule, zone: str, week: WorkWeek, start: datetime, steps: list[int],
    grace: int,
) -> None:
    """Ticks at random moments, each looking back over its grace window (as the scheduler
    does, so windows overlap): every scheduled occurrence whose due instant passed is found
    once, with one due instant, and is either sent on a working day within working hours or
    recorded with a reason."""
    tz = ZoneInfo(zone)
    found: dict[str, tuple[datetime, str | None]] = {}
    last, now = start, start
    for hours in steps:
        now += timedelta(hours=hours)
        window = min(last, now - timedelta(hours=grace))
        for key, at, skip in _placements(schedule, tz, week, window, now):
            assert found.setdefault(key, (at, skip)) == (at, skip), "one placement per key"
        last = now
    # Everything scheduled that must have come due by the last tick was found.
    first_day = start.astimezone(tz).date() + timedelta(days=2)
    last_day = now.astimezone(tz).date() - timedelta(days=2 * MAX_SEARCH_DAYS + 6)
    for day in cadence.local_dates(schedule, first_day, last_day):
        assert day.isoformat() in found, f"{day} was never placed"
    sent_at: set[datetime] = set()
    for key, (at, skip) in found.items():
        if skip is not None:
            assert skip, "a reason is recorded"
            continue
        local = at.astimezone(tz)
        assert week.is_working(local.date()), f"{key} sent on a non-working day"
        assert week.hours[0] <= local.time() < week.hours[1] or not cadence.exists(
            datetime.combine(local.date(), week.hours[0], tzinfo=tz)), "within working hours"
        assert local.date() >= date.fromisoformat(key), "moved forward, never back"
        assert at not in sent_at, "two prompts at one instant go out once"
        sent_at.add(at)
