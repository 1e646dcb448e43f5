"""Where a scheduled prompt really goes out: off non-working days and into working hours.

An occurrence is scheduled on a local date (its key, so a prompt is asked at most once per
scheduled date). When that date is not a working day for the person, it moves to their next
working day at the same local time; the instant is then held to their working hours
(:meth:`WorkWeek.place`). Two occurrences that land on the same instant go out once: the one
scheduled last is sent, the others are recorded as skipped with the reason. One that cannot be
placed (no working day within reach) is recorded at its scheduled instant, never dropped.

Pure: time is a parameter, the same inputs give the same placement in every process and
every tick, so ticks may split time anywhere without losing or repeating a prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.calendar import cadence
from app.calendar.cadence import Anchor, Occurrence, Schedule
from app.calendar.workweek import MAX_SEARCH_DAYS, WorkWeek

NO_WORKING_DAY = f"no working day within {MAX_SEARCH_DAYS} days"
OUTSIDE_HOURS = "outside working hours"


@dataclass(frozen=True, slots=True)
class Placed:
    """One scheduled occurrence and where it goes out."""

    occurrence: Occurrence  # as scheduled: its key and its scheduled instant
    at: datetime  # the instant it is due (UTC): moved, or the scheduled one when unplaced
    reason: str | None = None  # why it moved ("Easter Monday", "Sunday", "outside working hours")
    skip: str | None = None  # why it is recorded without being sent

    @property
    def key(self) -> str:
        return self.occurrence.key

    @property
    def moved(self) -> bool:
        return self.at != self.occurrence.at and self.skip is None

    def payload(self, tz: ZoneInfo) -> dict[str, str]:
        """What the delivery row records about the move (empty: as scheduled)."""
        if not self.moved:
            return {}
        out = {"scheduled_at": self.occurrence.at.isoformat(), "reason": str(self.reason)}
        if self.at.astimezone(tz).date() != self.occurrence.local_date:
            out["moved_from"] = self.occurrence.key
        return out


def place(occ: Occurrence, at: time, week: WorkWeek, tz: ZoneInfo) -> Placed:
    """Where one occurrence (scheduled at local time ``at``) goes out for ``week``."""
    day = week.next_working(occ.local_date)
    if day is None:
        return Placed(occ, occ.at, skip=NO_WORKING_DAY)
    reason = week.why_not(occ.local_date)
    instant = occ.at if day == occ.local_date else cadence.localize(day, at, tz)
    held = week.place(instant, tz)
    if held is None:
        return Placed(occ, occ.at, skip=NO_WORKING_DAY)
    if held != instant and reason is None:
        reason = OUTSIDE_HOURS
    return Placed(occ, held, reason=reason)


def collided(onto: date) -> str:
    return f"another prompt goes out on {onto:%a} {onto.day} {onto:%b}"


def _reach_back(week: WorkWeek, first: date) -> date:
    """The earliest scheduled date that can land on ``first`` or later: back over the
    non-working days before it, one working day (an evening prompt is held to the next
    morning) and the non-working days before that."""
    day, working_seen = first, 0
    for _ in range(2 * MAX_SEARCH_DAYS + 4):
        before = day - timedelta(days=1)
        if week.is_working(before):
            if working_seen:
                break
            working_seen += 1
        day = before
    return day


def placed_occurrences(schedule: Schedule, tz: ZoneInfo, week: WorkWeek, after: datetime,
                       until: datetime, *, anchor: Anchor = None) -> list[Placed]:
    """Occurrences whose (moved) due instant is in ``(after, until]``, in order.

    Consecutive windows together give exactly the placements of their union, like
    :func:`cadence.occurrences`.
    """
    if until <= after:
        return []
    first = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    placed: list[Placed] = []
    for day in cadence.local_dates(schedule, _reach_back(week, first), last, anchor=anchor):
        occ = Occurrence(at=cadence.localize(day, schedule.at, tz), local_date=day)
        placed.append(place(occ, schedule.at, week, tz))
    # Occurrences landing on one instant go out once: the last scheduled one is sent. Every
    # member of such a group shares the instant, so a window sees all of them or none.
    latest: dict[datetime, date] = {}
    for p in placed:
        if p.skip is None:
            latest[p.at] = max(latest.get(p.at, p.occurrence.local_date), p.occurrence.local_date)
    out: list[Placed] = []
    for p in placed:
        if not after < p.at <= until:
            continue
        if p.skip is None and latest[p.at] != p.occurrence.local_date:
            onto = p.at.astimezone(tz).date()
            p = Placed(p.occurrence, p.at, reason=p.reason, skip=collided(onto))
        out.append(p)
    return sorted(out, key=lambda p: (p.at, p.occurrence.local_date))
