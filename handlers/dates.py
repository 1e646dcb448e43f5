"""Reading a date the way people type it after ``/okr away``."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from app.services.errors import InvalidValue

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_IN = re.compile(r"^(?:in\s+)?(\d{1,3})\s*(d|day|days|w|wk|week|weeks)$")
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?(?:\s+(\d{4}))?$")
_MONTH_DAY = re.compile(r"^([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")

HELP = ("Try a date like `2026-03-20`, `20 Mar`, `friday`, `tomorrow`, `in 2 weeks` or "
        "`next week`.")


def _month(word: str) -> int | None:
    w = word[:3].lower()
    return MONTHS.index(w) + 1 if w in MONTHS else None


def _upcoming(day: date, today: date) -> date:
    """A day-month without a year means its next occurrence (today counts)."""
    return day if day >= today else day.replace(year=day.year + 1)


def parse_until(text: str, today: date) -> date:
    """The last day someone is away, from free text; raises InvalidValue with examples."""
    t = " ".join(text.lower().replace(",", " ").split())
    t = t.removeprefix("until ").removeprefix("till ").strip()
    if not t:
        raise InvalidValue(f"until when? {HELP}", field="until")
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            return datetime.strptime(t, "%Y-%m-%d").date()
        if t == "today":
            return today
        if t == "tomorrow":
            return today + timedelta(days=1)
        if t == "next week":
            return today + timedelta(days=7 - today.weekday() + 6)  # Sunday of next week
        if m := _IN.match(t):
            n = int(m.group(1))
            return today + (timedelta(weeks=n) if m.group(2).startswith("w")
                            else timedelta(days=n))
        name = t.removeprefix("next ")
        if name in WEEKDAYS or (name[:3] in [w[:3] for w in WEEKDAYS] and len(name) >= 3):
            idx = next(i for i, w in enumerate(WEEKDAYS) if w.startswith(name[:3]))
            ahead = (idx - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
        if m := _DAY_MONTH.match(t):
            month = _month(m.group(2))
            if month:
                year = int(m.group(3)) if m.group(3) else today.year
                day = date(year, month, int(m.group(1)))
                return day if m.group(3) else _upcoming(day, today)
        if m := _MONTH_DAY.match(t):
            month = _month(m.group(1))
            if month:
                year = int(m.group(3)) if m.group(3) else today.year
                day = date(year, month, int(m.group(2)))
                return day if m.group(3) else _upcoming(day, today)
    except ValueError:
        raise InvalidValue(f"“{text[:40]}” is not a date. {HELP}", field="until") from None
    raise InvalidValue(f"I can't read “{text[:40]}” as a date. {HELP}", field="until")
