"""A quarter of weekly check-ins for the sample organisation, deterministic (fixed seed).

Every check-in goes through ``app.services.checkins.record`` (source ``demo``) at its owner's
local check-in time, converted to UTC, in time order. Each KR follows a plan: where it ends
up, how it gets there, and the story told in notes and blockers. A few plans are there to
show the flags: one KR goes stale, one owner keeps declaring green while far behind pace.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.calendar.workweek import WorkWeek
from app.domain import CheckinAnswer, CheckinSource, Commitment, CycleWindow, KRFacts, KRType
from app.models import IssueLink, KeyResult, Objective, Person, Workspace
from app.services.checkins import record as checkins
from app.services.links import attach
from app.services.okrs.facts import phased_targets
from app.services.scheduling import workweeks

SEED = 20260427
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Plan:
    """How a KR moves through the quarter.

    ``final``: fraction of the way from start to target at the last check-in (for ``above``
    / ``below`` KRs the final value itself; for manual KRs the final score). ``shape``:
    linear, early (fast start), late (hockey stick) or stall. ``done_week``: when a
    milestone is reached. ``stop_after``: last week with a check-in (a stale KR).
    ``declare``: a status the owner always declares, whatever the numbers say.
    """

    final: float = 0.7
    shape: str = "linear"
    done_week: int | None = None
    stop_after: int | None = None
    declare: str | None = None
    notes: tuple[str, ...] = ()
    blockers: dict[int, str] = field(default_factory=dict)


PLANS: dict[str, Plan] = {
    "acme-nps": Plan(0.61, notes=("Detractors mostly cite onboarding", "Survey response up")),
    "acme-arr": Plan(0.72, notes=("Two expansions closed in EMEA", "Renewals on plan")),
    "acme-churn": Plan(0.53, "early", notes=("Save desk live", "Churn flat this month")),
    "apac-revenue": Plan(0.50, "late", notes=("First Japanese customer invoiced",)),
    "rel-uptime": Plan(99.95, notes=("Clean week", "Brief API blip on Thursday")),
    "rel-p1": Plan(0.75, "early"),
    "onb-ttfv": Plan(0.74, notes=("Walkthrough beta cut setup time for 20 pilot accounts",
                                  "Data import wizard shaved another day")),
    "onb-nps": Plan(0.67, notes=("New welcome call script is landing well",)),
    "onb-checklist": Plan(0.80, "early", notes=("Checklist now in the product tour",)),
    "onb-tickets": Plan(0.42, "stall", notes=("Ticket volume stuck around 350",),
                        blockers={6: "Support tooling migration slipped to May",
                                  9: "Support tooling migration slipped to May",
                                  12: "Still waiting on the support tooling migration"}),
    "eng-mttr": Plan(0.83, notes=("Paging to the right team first time now",)),
    "eng-slo": Plan(0.75, notes=("Billing and auth now under SLOs",)),
    "eng-budget": Plan(72.0, notes=("Burn spiked after the March release", "Back to normal")),
    "apac-pipeline": Plan(0.64, notes=("Sydney roadshow added 6 opportunities",)),
    "apac-japan": Plan(0.2, "stall", declare="green",
                       notes=("Big deals are close, all good", "Should land next month"),
                       blockers={8: "Procurement freeze at two prospects",
                                 12: "Procurement freeze at two prospects"}),
    "apac-partner": Plan(done_week=None, notes=("Term sheet agreed",),
                         blockers={10: "Waiting on legal review of the reseller contract",
                                   12: "Waiting on legal review of the reseller contract"}),
    "walk-ship": Plan(done_week=9, notes=("Walkthrough in beta", "Rolled out to everyone")),
    "walk-emails": Plan(0.70, notes=("Subject-line test won by 6 points",)),
    "oncall-pages": Plan(0.60, "early", notes=("Silenced 12 noisy alerts",)),
    "oncall-runbooks": Plan(0.85, notes=("Runbook template agreed",)),
    "oncall-gamedays": Plan(0.25, stop_after=8, notes=("First game day done with Payments",)),
    "diego-course": Plan(done_week=6, notes=("Module 3 of 5 done", "Course complete")),
    "diego-projects": Plan(0.5, "late"),
    "diego-360": Plan(0.7),
    "ananya-sql": Plan(done_week=11, notes=("Exam booked",)),
    "ananya-talks": Plan(0.67, "late"),
    "emma-builds": Plan(0.3, notes=("Looked into caching",)),
}
GENERIC_NOTES = ("Steady week", "Good momentum, nothing blocking", "Slower week: two people out",
                 "On track after this week's release", "")
# Issues the tracker closes during the quarter: (week, url).
CLOSED_ISSUES = ((4, "https://gitlab.com/acme/web/-/issues/112"),
                 (9, "https://gitlab.com/acme/web/-/issues/118"))


def shape(name: str, x: float) -> float:
    if name == "early":
        return float(x ** 0.5)
    if name == "late":
        return x ** 2
    if name == "stall":
        return min(x * 2.0, 1.0)
    return x


def _value(kr: KeyResult, plan: Plan, frac: float, rng: random.Random) -> tuple[float | None,
                                                                              float | None]:
    """(value, manual score) at ``frac`` (0..1) of the way through the check-ins."""
    kind = KRType(kr.kr_type)
    if kind == KRType.MANUAL:
        return None, round(min(max(plan.final * shape(plan.shape, frac), 0.0), 1.0), 1)
    if kind == KRType.MILESTONE:
        return 0.0, None
    if kind in (KRType.ABOVE, KRType.BELOW):
        swing = 0.08 if kr.unit == "%" and (kr.target_value or 0) > 99 else 9.0
        return round(plan.final + rng.uniform(-swing, swing) * (1 - frac), 2), None
    if kind == KRType.PERCENT:
        return round(100 * plan.final * shape(plan.shape, frac)), None
    start, target = kr.start_value or 0.0, kr.target_value or 0.0
    noise = rng.uniform(-0.03, 0.03) if frac < 1.0 else 0.0
    progress = max(plan.final * shape(plan.shape, frac) + noise, 0.0)
    value = start + progress * (target - start)
    if (kr.unit or "").startswith("$"):
        return round(value, 2), None
    if start == int(start) and target == int(target):
        return (round(value) if abs(target - start) >= 10 or kr.unit else round(value, 1)), None
    return round(value, 1), None


@dataclass(frozen=True)
class Event:
    at: datetime
    week: int
    kr_key: str


def _local_slot(person: Person, ws: Workspace, monday: date, rng: random.Random,
                week: WorkWeek) -> datetime:
    """When the person checks in that week: soon after their prompt, which comes on their
    next working day when the scheduled one is a holiday."""
    schedule = person.checkin_schedule or ws.checkin_schedule or {}
    day = schedule.get("day", "mon")
    day = day[0] if isinstance(day, list) else day
    hh, mm = (int(p) for p in str(schedule.get("time", "09:30")).split(":"))
    scheduled = monday + timedelta(days=DAYS.index(day))
    local_day = week.next_working(scheduled) or scheduled
    local = datetime.combine(local_day, time(hh, mm), ZoneInfo(person.tz))
    return (local + timedelta(minutes=rng.randrange(0, 75))).astimezone(UTC)


@dataclass(frozen=True)
class Planned:
    """One check-in of the quarter, drawn in advance, and the issues closed just before it."""

    at: datetime
    week: int
    kr_key: str
    data: CheckinAnswer
    closes: tuple[str, ...] = ()


def plan(*, session: Session, workspace: Workspace, window: CycleWindow) -> list[Planned]:
    """Every check-in of the quarter in time order, drawn once from the fixed seed.

    The draws are made in time order, so any prefix is what a run stopped at that instant
    would record: recording a plan piece by piece gives the same history as one full run.
    """
    rng = random.Random(SEED)
    krs = _krs(session, workspace)
    people = {p.id: p for p in session.scalars(
        select(Person).where(Person.workspace_id == workspace.id))}
    weeks = workweeks.weeks_for(session, workspace)
    first = window.start + timedelta(days=(7 - window.start.weekday()) % 7)
    mondays = [first + timedelta(weeks=w) for w in range(14)
               if first + timedelta(weeks=w) <= window.end]
    events: list[Event] = []
    for key, kr_plan in PLANS.items():
        kr = krs.get(key)
        if kr is None or kr.owner_id is None:
            continue
        for week, monday in enumerate(mondays):
            if kr_plan.stop_after is not None and week > kr_plan.stop_after:
                break
            if week not in (0, len(mondays) - 1) and rng.random() < 0.12:
                continue  # everyone misses a week now and then
            owner = people[kr.owner_id]
            events.append(Event(_local_slot(owner, workspace, monday, rng,
                                            weeks.get(owner.id, WorkWeek())), week, key))
    events.sort(key=lambda e: (e.at, e.kr_key))
    goals = {oid: scoring.goal(Commitment(c)) for oid, c in session.execute(
        select(Objective.id, Objective.commitment).where(Objective.workspace_id == workspace.id))}
    closes = list(CLOSED_ISSUES)
    out: list[Planned] = []
    for event in events:
        closing: list[str] = []
        while closes and closes[0][0] <= event.week:
            closing.append(closes.pop(0)[1])
        kr = krs[event.kr_key]
        data = _answer(kr, PLANS[event.kr_key], event, len(mondays) - 1, window,
                       goals[kr.objective_id], rng)
        out.append(Planned(event.at, event.week, event.kr_key, data, tuple(closing)))
    return out


def _krs(session: Session, workspace: Workspace) -> dict[str, KeyResult]:
    return {kr.key: kr for kr in session.scalars(
        select(KeyResult).where(KeyResult.workspace_id == workspace.id).order_by(KeyResult.id))}


def _answer(kr: KeyResult, kr_plan: Plan, event: Event, last_week: int, window: CycleWindow,
            goal: float, rng: random.Random) -> CheckinAnswer:
    frac = event.week / last_week
    value, manual = _value(kr, kr_plan, frac, rng)
    if KRType(kr.kr_type) == KRType.MILESTONE:
        value = 1.0 if kr_plan.done_week is not None and event.week >= kr_plan.done_week else 0.0
    # Owners judge by their own plan: the KR's pace towards its objective's goal.
    facts, day = pace_facts(kr), event.at.date()
    expected = scoring.kr_expected(facts, window, day, end_goal=goal)
    score = checkins.score_after(kr, value, manual) or 0.0
    status = kr_plan.declare or (scoring.kr_suggestion(facts, score, expected, window, day).value
                                 if rng.random() < 0.85 else None)
    note = rng.choice(kr_plan.notes + GENERIC_NOTES) if rng.random() < 0.6 else ""
    return CheckinAnswer(kr_key=kr.key, value=value, score=manual, status=status,
                         note=note or None, blockers=kr_plan.blockers.get(event.week),
                         confidence=rng.choice(("low", "medium", "high")))


def record_planned(*, session: Session, workspace: Workspace, planned: list[Planned],
                   now: datetime, after: datetime | None = None) -> int:
    """Record the planned check-ins up to ``now``; return how many there are by then.

    With ``after``, those up to that instant are taken as recorded by an earlier call.
    """
    krs = _krs(session, workspace)
    count = 0
    for item in planned:
        if item.at > now:
            break
        count += 1
        if after is not None and item.at <= after:
            continue
        for url in item.closes:
            _close_issue(session, workspace, url, item.at)
        kr = krs[item.kr_key]
        checkins.record(session=session, workspace_id=workspace.id, kr=kr, data=item.data,
                        author_id=kr.owner_id, actor_label="demo", source=CheckinSource.DEMO,
                        now=item.at, idempotency_key=f"demo:{kr.key}:{item.week}")
    return count


def simulate(*, session: Session, workspace: Workspace, window: CycleWindow,
             now: datetime, after: datetime | None = None) -> int:
    """Record the quarter's check-ins up to ``now``; return how many were recorded."""
    return record_planned(session=session, workspace=workspace,
                          planned=plan(session=session, workspace=workspace, window=window),
                          now=now, after=after)


def pace_facts(kr: KeyResult) -> KRFacts:
    """What the pace rule reads of a KR (type, start and target, due date, phased targets)."""
    return KRFacts(id=kr.key, kr_type=KRType(kr.kr_type), start=kr.start_value,
                   target=kr.target_value, due=kr.due_date,
                   targets=phased_targets(kr.targets) if kr.targets else ())


def _close_issue(session: Session, workspace: Workspace, url: str, at: datetime) -> None:
    link = session.scalars(select(IssueLink).where(IssueLink.workspace_id == workspace.id,
                                                   IssueLink.url == url)).first()
    if link is None:
        return
    item = attach.ItemState(provider=link.provider, host=link.host, project=link.project,
                           kind=link.kind, number=link.number, state="closed", updated_at=at)
    attach.apply_state(session=session, item=item, now=at, actor_label="demo",
                      workspace_id=workspace.id)

