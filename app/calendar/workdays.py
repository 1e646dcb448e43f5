"""Organisation holidays: the ``holidays`` package by country code plus explicit dates."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays

log = logging.getLogger(__name__)


@lru_cache(maxsize=256)
def _country(code: str, year: int) -> frozenset[date]:
    # "DE" or "DE-BY" (country and subdivision).
    country, _, subdiv = code.upper().partition("-")
    try:
        cal = holidays.country_holidays(country, subdiv=subdiv or None, years=year)
    except (NotImplementedError, KeyError, ValueError):
        log.warning("holidays.unknown_country", extra={"country": code})
        return frozenset()
    return frozenset(cal.keys())


def known_country(code: str) -> bool:
    country, _, subdiv = code.upper().partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdiv or None, years=2026)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


def country_problem(code: str) -> str | None:
    """Why a holiday country code is refused (None: it is known), for imports and Slack alike."""
    if known_country(code):
        return None
    return f"unknown country code {code!r} (ISO 3166, e.g. DE)"


def org_holidays(country: str | None, extra: Iterable[str | date] | None,
                 years: Iterable[int]) -> frozenset[date]:
    """Public holidays of ``country`` in ``years`` plus the explicit ``extra`` dates."""
    out: set[date] = set()
    if country:
        for year in set(years):
            out |= _country(country, year)
    for item in extra or ():
        try:
            out.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            log.warning("holidays.bad_date", extra={"value": str(item)[:40]})
    return frozenset(out)
