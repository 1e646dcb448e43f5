"""Fiscal calendar: names, quarter windows, navigation and offsets."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.calendar.fiscal import (
    day_of_cycle,
    days_left,
    days_offset,
    fiscal_quarter,
    fiscal_year,
    fiscal_year_of,
    next_quarter,
    previous_quarter,
    quarter_containing,
    quarter_name,
    weeks_after_end,
    weeks_before_start,
    year_containing,
)
from app.domain import CycleWindow


def window(name: str, start: str, end: str) -> CycleWindow:
    return CycleWindow(name, date.fromisoformat(start), date.fromisoformat(end))


class TestGitLabConvention:
    """February start, fiscal year named by the calendar year it ends in."""

    def test_fy23_q1(self) -> None:
        assert fiscal_quarter("FY23-Q1", 2) == window("FY23-Q1", "2022-02-01", "2022-04-30")

    def test_fy23_q4_crosses_calendar_years(self) -> None:
        assert fiscal_quarter("FY23-Q4", 2) == window("FY23-Q4", "2022-11-01", "2023-01-31")

    def test_fy23(self) -> None:
        assert fiscal_year("FY23", 2) == window("FY23", "2022-02-01", "2023-01-31")

    def test_last_day_of_the_fiscal_year(self) -> None:
        assert quarter_containing(date(2023, 1, 31), 2).name == "FY23-Q4"
        assert quarter_containing(date(2023, 2, 1), 2).name == "FY24-Q1"
        assert year_containing(date(2023, 1, 31), 2).name == "FY23"

    @pytest.mark.parametrize("name", ["FY2023-Q1", "fy23-q1", "Fy2023-q1", " FY23-Q1 ",
                                      "FY23 Q1", "FY23Q1"])
    def test_accepted_spellings(self, name: str) -> None:
        assert fiscal_quarter(name, 2) == fiscal_quarter("FY23-Q1", 2)


class TestStartMonths:
    def test_january_start_is_the_calendar_year(self) -> None:
        assert fiscal_year("FY27", 1) == window("FY27", "2027-01-01", "2027-12-31")
        assert fiscal_quarter("FY27-Q1", 1) == window("FY27-Q1", "2027-01-01", "2027-03-31")
        assert fiscal_quarter("FY27-Q4", 1) == window("FY27-Q4", "2027-10-01", "2027-12-31")
        assert fiscal_year("FY2027", 1) == fiscal_year("FY27", 1)

    def test_november_start(self) -> None:
        assert fiscal_quarter("FY27-Q1", 11) == window("FY27-Q1", "2026-11-01", "2027-01-31")
        assert fiscal_quarter("FY27-Q4", 11) == window("FY27-Q4", "2027-08-01", "2027-10-31")
        assert quarter_name(date(2026, 10, 31), 11) == "FY26-Q4"
        assert quarter_name(date(2026, 11, 1), 11) == "FY27-Q1"

    def test_december_start(self) -> None:
        assert fiscal_year("FY27", 12) == window("FY27", "2026-12-01", "2027-11-30")
        assert fiscal_quarter("FY27-Q1", 12) == window("FY27-Q1", "2026-12-01", "2027-02-28")
        assert quarter_name(date(2026, 12, 31), 12) == "FY27-Q1"
        assert quarter_name(date(2027, 11, 30), 12) == "FY27-Q4"

    def test_fiscal_year_of(self) -> None:
        assert fiscal_year_of(date(2022, 2, 1), 2) == 2023
        assert fiscal_year_of(date(2022, 1, 31), 2) == 2022
        assert fiscal_year_of(date(2022, 12, 31), 1) == 2022

    @pytest.mark.parametrize("month", [0, 13, -1])
    def test_bad_start_month(self, month: int) -> None:
        with pytest.raises(ValueError, match="start month must be 1-12"):
            fiscal_quarter("FY27-Q1", month)
        with pytest.raises(ValueError, match="start month must be 1-12"):
            quarter_containing(date(2027, 1, 1), month)


class TestLeapYears:
    def test_february_29_inside_a_quarter(self) -> None:
        q = fiscal_quarter("FY28-Q1", 1)
        assert q == window("FY28-Q1", "2028-01-01", "2028-03-31")
        assert q.days == 91
        assert quarter_containing(date(2028, 2, 29), 1) == q

    def test_quarter_ending_on_february_29(self) -> None:
        assert fiscal_quarter("FY24-Q1", 12) == window("FY24-Q1", "2023-12-01", "2024-02-29")
        assert fiscal_quarter("FY23-Q1", 12).end == date(2023, 2, 28)

    def test_gitlab_fy25_q4_ends_in_a_leap_january(self) -> None:
        assert fiscal_year("FY25", 2).days == 366  # 2024-02-01..2025-01-31 holds 2024-02-29


class TestNavigation:
    def test_next_of_q4_is_next_fiscal_years_q1(self) -> None:
        assert next_quarter("FY23-Q4", 2) == window("FY24-Q1", "2023-02-01", "2023-04-30")

    def test_previous_of_q1_is_last_years_q4(self) -> None:
        assert previous_quarter("FY23-Q1", 2) == window("FY22-Q4", "2021-11-01", "2022-01-31")

    def test_accepts_windows(self) -> None:
        q2 = fiscal_quarter("FY27-Q2", 1)
        assert next_quarter(q2, 1).name == "FY27-Q3"
        assert previous_quarter(q2, 1).name == "FY27-Q1"

    def test_century_rollover_names(self) -> None:
        assert next_quarter("FY2099-Q4", 1).name == "FY2100-Q1"
        assert previous_quarter("FY2100-Q1", 1).name == "FY99-Q4"


class TestBadNames:
    @pytest.mark.parametrize("name", ["", "2027-Q1", "FY27", "FY27-Q", "FY7-Q1", "FY027-Q1",
                                      "Q1-FY27", "FY27-Q12", "FY27-H1"])
    def test_not_a_quarter(self, name: str) -> None:
        with pytest.raises(ValueError, match=r"not a fiscal quarter name.*e\.g\. FY27-Q1"):
            fiscal_quarter(name, 1)

    @pytest.mark.parametrize("name", ["FY27-Q0", "FY27-Q5"])
    def test_quarter_out_of_range(self, name: str) -> None:
        with pytest.raises(ValueError, match="the quarter must be Q1 to Q4"):
            fiscal_quarter(name, 1)

    @pytest.mark.parametrize("name", ["FY27-Q1", "2027", "FY", "FY123"])
    def test_not_a_year(self, name: str) -> None:
        with pytest.raises(ValueError, match="not a fiscal year name"):
            fiscal_year(name, 1)


class TestOffsets:
    q = window("FY27-Q1", "2026-02-01", "2026-04-30")

    def test_weeks_before_start(self) -> None:
        assert weeks_before_start(self.q, 2) == date(2026, 1, 18)
        assert weeks_before_start(self.q, 0) == self.q.start

    def test_weeks_after_end(self) -> None:
        assert weeks_after_end(self.q, 1) == date(2026, 5, 7)

    def test_days_offset(self) -> None:
        assert days_offset(self.q, -1, anchor="start") == date(2026, 1, 31)
        assert days_offset(self.q, 3, anchor="end") == date(2026, 5, 3)

    @pytest.mark.parametrize(
        ("today", "day", "left"),
        [("2026-01-01", 0, 89), ("2026-02-01", 1, 88), ("2026-03-01", 29, 60),
         ("2026-04-30", 89, 0), ("2026-06-01", 89, 0)],
    )
    def test_day_of_cycle_and_days_left(self, today: str, day: int, left: int) -> None:
        when = date.fromisoformat(today)
        assert day_of_cycle(self.q, when) == (day, 89)
        assert days_left(self.q, when) == left


# --- properties ---------------------------------------------------------------------------

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
months = st.integers(1, 12)


@given(dates, months)
def test_quarter_containing_contains_the_date(d: date, start_month: int) -> None:
    q = quarter_containing(d, start_month)
    assert q.start <= d <= q.end
    assert q.start.day == 1 and (q.start.month - start_month) % 3 == 0
    assert 89 <= q.days <= 92
    assert fiscal_quarter(q.name, start_month) == q
    assert year_containing(d, start_month).start <= q.start


@given(dates, months)
def test_next_of_previous_is_identity(d: date, start_month: int) -> None:
    q = quarter_containing(d, start_month)
    assert next_quarter(previous_quarter(q, start_month), start_month) == q
    assert previous_quarter(next_quarter(q, start_month), start_month) == q


@given(dates, months)
def test_quarters_tile_without_gaps(d: date, start_month: int) -> None:
    q = quarter_containing(d, start_month)
    following = next_quarter(q, start_month)
    assert following.start == q.end + timedelta(days=1)
    year = year_containing(d, start_month)
    quarters = [fiscal_quarter(f"{year.name}-Q{i}", start_month) for i in range(1, 5)]
    assert quarters[0].start == year.start and quarters[-1].end == year.end
    assert sum(x.days for x in quarters) == year.days
    for a, b in itertools.pairwise(quarters):
        assert b.start == a.end + timedelta(days=1)
