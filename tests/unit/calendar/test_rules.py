"""Skip rules, holidays and timeline presets as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.calendar import timeline
from app.calendar.cadence import Schedule
from app.calendar.phases import effective_phase, imported_phase
from app.calendar.placement import placed_occurrences
from app.calendar.workdays import org_holidays
from app.calendar.workweek import WorkWeek
from app.domain import CyclePhase, CycleWindow
from app.services.scheduling import skips
from app.services.scheduling.skips import PromptFacts, prompt_skip_reason
from tests.scheduler.strategies import STARTS, ZONES, schedules

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def facts(**kw: object) -> PromptFacts:
    base: dict[str, object] = {"active": True, "away_until": None, "phase": CyclePhase.ACTIVE,
                               "active_krs": (None,)}
    base.update(kw)
    return PromptFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({}, None),
        ({"active": False}, skips.DEACTIVATED),
        ({"phase": None}, skips.NO_CYCLE),
        ({"phase": CyclePhase.PLANNING}, skips.CYCLE_PLANNING),
        ({"phase": CyclePhase.CLOSED}, skips.CYCLE_CLOSED),
        ({"away_until": date(2026, 3, 2)}, skips.AWAY),
        ({"away_until": date(2026, 3, 1)}, None),
        ({"away_until": date(2026, 3, 9), "away_from": date(2026, 3, 2)}, skips.AWAY),
        ({"away_until": date(2026, 3, 9), "away_from": date(2026, 3, 3)}, None),
        ({"skipped_week": True}, skips.SKIPPED_WEEK),
        ({"active_krs": ()}, skips.NO_ACTIVE_KRS),
        ({"active_krs": (NOW - timedelta(days=1),)}, skips.CHECKED_IN),
        ({"active_krs": (NOW - timedelta(days=1), None)}, None),
        ({"active_krs": (NOW - timedelta(days=4),)}, None),
    ],
)
def test_prompt_skip_reasons(kw: dict[str, object], reason: str | None) -> None:
    got = prompt_skip_reason(facts(**kw), local_date=date(2026, 3, 2), due_at=NOW,
                             checked_in_days=3)
    assert got == reason


def test_nudge_only_when_nothing_checked_in_since_the_prompt() -> None:
    prompted = NOW
    assert skips.nudge_skip_reason(facts(active_krs=(None,)), local_date=NOW.date(),
                                   prompted_at=prompted) is None
    assert skips.nudge_skip_reason(facts(active_krs=(NOW + timedelta(hours=1),)),
                                   local_date=NOW.date(), prompted_at=prompted) \
        == skips.ALREADY_CHECKED_IN


@settings(max_examples=200, deadline=None)
@given(schedules(), st.sampled_from(ZONES), STARTS, st.integers(1, 24 * 60),
       st.sets(st.dates(date(2025, 1, 1), date(2028, 2, 1)), max_size=40),
       st.none() | st.dates(date(2025, 1, 1), date(2028, 2, 1)),
       st.none() | st.dates(date(2025, 1, 1), date(2028, 2, 1)))
def test_never_prompts_on_an_away_day_or_a_holiday(
    schedule: Schedule, zone: str, start: datetime, hours: int, holidays: set[date],
    away_until: date | None, away_from: date | None,
) -> None:
    tz = ZoneInfo(zone)
    f = facts(away_until=away_until, away_from=away_from)
    week = WorkWeek(days=frozenset(range(7)), extra=dict.fromkeys(holidays, "day off"))
    for p in placed_occurrences(schedule, tz, week, start, start + timedelta(hours=hours)):
        sent_on = p.at.astimezone(tz).date()
        sent = p.skip is None and prompt_skip_reason(
            f, local_date=p.occurrence.local_date, due_at=p.at, checked_in_days=3,
            sent_on=sent_on) is None
        if sent:
            assert sent_on not in holidays
            assert away_until is None or sent_on > away_until or (
                away_from is not None and sent_on < away_from)


def test_effective_phase() -> None:
    start, end = date(2026, 2, 1), date(2026, 4, 30)
    assert effective_phase("planning", start, end, date(2026, 1, 31)) == CyclePhase.PLANNING
    assert effective_phase("planning", start, end, date(2026, 2, 1)) == CyclePhase.ACTIVE
    assert effective_phase("active", start, end, date(2026, 5, 1)) == CyclePhase.REVIEW
    assert effective_phase("closed", start, end, date(2026, 3, 1)) == CyclePhase.CLOSED
    assert effective_phase("review", start, end, date(2026, 3, 1)) == CyclePhase.REVIEW


def test_org_holidays_by_country_subdivision_and_dates() -> None:
    days = org_holidays("DE-BY", ["2026-12-24", "not a date"], [2026])
    assert date(2026, 1, 6) in days  # Epiphany, Bavaria only
    assert date(2026, 12, 24) in days
    assert date(2026, 1, 6) not in org_holidays("DE-BE", None, [2026])
    assert org_holidays("XX", None, [2026]) == frozenset()


Q = CycleWindow(name="FY27-Q1", start=date(2026, 2, 1), end=date(2026, 4, 30))


def test_gitlab_preset_fires_at_the_handbook_offsets() -> None:
    rules = timeline.preset("gitlab-product")
    got = {r.key: timeline.fire_date(r, Q) for r in rules}
    start = Q.start
    assert [got[f"gitlab-{w}w"] for w in (8, 6, 5, 4, 3, 2, 1)] == [
        start - timedelta(weeks=w) for w in (8, 6, 5, 4, 3, 2, 1)]
    assert got["gitlab-end+1w"] == Q.end + timedelta(weeks=1)
    assert got["gitlab-end+3w"] == Q.end + timedelta(weeks=3)
    two = next(r for r in rules if r.key == "gitlab-2w")
    assert "enter your KRs and align them to their parent OKRs" in two.text
    assert two.when() == "2 weeks before the start"


def test_okr_cycle_preset_covers_every_phase() -> None:
    keys = [r.key for r in timeline.preset("okr-cycle")]
    for phase in ("launch", "drafting", "tracking", "midpoint", "scoring", "retrospective"):
        assert f"cycle-{phase}" in keys
    mid = next(r for r in timeline.preset("okr-cycle") if r.key == "cycle-midpoint")
    assert timeline.fire_date(mid, Q) == date(2026, 3, 17)
    assert timeline.preset("none") == ()


def test_firing_lists_each_rule_once_per_cycle_in_a_window() -> None:
    q2 = CycleWindow(name="FY27-Q2", start=date(2026, 5, 1), end=date(2026, 7, 31))
    rules = timeline.preset("gitlab-product")
    fired = timeline.firing(rules, [Q, q2], date(2025, 1, 1), date(2027, 1, 1))
    assert len(fired) == 2 * len(rules)
    assert len({(r.key, c.name) for r, c, _ in fired}) == len(fired)
    # 2026-05-08 is 1 week after Q1 ends, and 2026-05-08 isn't Q2's 1-week-before date.
    on_day = timeline.firing(rules, [Q, q2], date(2026, 5, 7), date(2026, 5, 7))
    assert [(r.key, c.name) for r, c, _ in on_day] == [("gitlab-end+1w", "FY27-Q1")]


@pytest.mark.parametrize(("text", "days"), [("-2w", -14), ("3d", 3), ("+1w", 7), ("-14", -14)])
def test_parse_offset(text: str, days: int) -> None:
    assert timeline.parse_offset(text) == days


def test_bad_rules_name_the_field() -> None:
    with pytest.raises(timeline.RuleError) as err:
        timeline.parse_offset("soon")
    assert err.value.field == "offset"
    rule = timeline.Rule(key="x", anchor="start", offset_days=0, audience="usergroup", text="hi")
    with pytest.raises(timeline.RuleError) as err:
        timeline.check(rule)
    assert err.value.field == "usergroup"
    with pytest.raises(timeline.RuleError):
        timeline.check(timeline.Rule(key="Bad Key", anchor="start", offset_days=0,
                                     audience="channel", text="hi"))


def test_imported_phase_follows_today() -> None:
    start, end = date(2026, 2, 1), date(2026, 4, 30)
    assert imported_phase(start, end, date(2026, 1, 31)) == CyclePhase.PLANNING
    assert imported_phase(start, end, date(2026, 2, 1)) == CyclePhase.ACTIVE
    assert imported_phase(start, end, date(2026, 4, 30)) == CyclePhase.ACTIVE
    assert imported_phase(start, end, date(2026, 5, 1)) == CyclePhase.CLOSED


def test_a_nudge_is_skipped_only_when_every_kr_was_updated_since_the_prompt() -> None:
    later, before = NOW + timedelta(hours=1), NOW - timedelta(days=2)
    for krs, reason in (((later, None), None), ((later, before), None), ((before,), None),
                        ((later, NOW), skips.ALREADY_CHECKED_IN)):
        got = skips.nudge_skip_reason(facts(active_krs=krs), local_date=NOW.date(),
                                      prompted_at=NOW)
        assert got == reason, krs
    assert skips.updated_since(NOW, NOW) and not skips.updated_since(before, NOW)
    assert not skips.updated_since(None, NOW)
