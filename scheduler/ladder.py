"""The follow-up ladder of an unanswered prompt: nudges after ``OKR_NUDGE_AFTER_DAYS`` working
days (1 and 3), then, after ``OKR_ESCALATE_AFTER_DAYS`` (7), one "waiting on" DM to the lead.

Keys hold the caps, so any number of processes may enqueue at once:

- a nudge is ``<local week>#nudge<rank>``: the rank is the person's n-th follow-up of that
  week, at most ``OKR_MAX_DMS_PER_WEEK``; two processes racing for a rank insert one row;
- the lead's DM is ``<lead's local week>#waiting``: once per lead and week, whatever the
  number of people and teams; what it lists is decided when it is sent.

Whether a step still goes (a check-in since the prompt, nudges turned off, a newer prompt) is
decided again at send time (``scheduler.render``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from app.calendar import ladder as timing
from app.calendar.workweek import WorkWeek
from app.config import Settings
from app.domain import Due
from app.services.scheduling import ladder
from app.services.scheduling.ladder import PromptRun
from app.services.scheduling.schedules import zone
from app.services.scheduling.tick_facts import WorkspaceFacts

# A lead's DM that would go this long after its trigger (the lead's own weekend or holidays
# in between) is still found by later ticks.
LEAD_DELAY = timedelta(days=5)


def due_ladder(facts: WorkspaceFacts, settings: Settings, start: datetime, now: datetime,
               weeks: Mapping[int, WorkWeek] | None = None) -> list[Due]:
    """Nudges and lead DMs whose time falls in ``(start, now]``, from the tick's facts of the
    workspace (read after this tick's prompts were inserted). ``weeks``: every person's
    working week when the caller has them already."""
    if not settings.nudge_after_days and not settings.escalate_after_days:
        return []
    runs = facts.prompt_runs(start - timing.MAX_SPAN - LEAD_DELAY, now)
    ids = {r.person_id for rs in runs.values() for r in rs if r.person_id is not None}
    if not ids:
        return []
    everyone = facts.weeks() if weeks is None else weeks
    known = {pid: everyone[pid] for pid in ids if pid in everyone} if weeks is None \
        else dict(weeks)
    out: list[Due] = []
    if settings.nudge_after_days and settings.max_dms_per_week > 0:
        out += _nudges(facts, settings, runs, known, start, now)
    if settings.escalate_after_days:
        out += _escalations(facts, settings.escalate_after_days, runs, known, everyone,
                            start, now)
    return out


def _nudges(facts: WorkspaceFacts, settings: Settings, runs: dict[str, list[PromptRun]],
            weeks: dict[int, WorkWeek], start: datetime, now: datetime) -> list[Due]:
    wants = {pid: p.nudges for pid in weeks if (p := facts.person.get(pid)) is not None}
    done: set[tuple[str, str, int]] = set()
    per_week: dict[tuple[str, str], int] = defaultdict(int)
    for target, occ, payload in facts.nudges_since(start - timing.MAX_SPAN - LEAD_DELAY):
        if target not in runs:
            continue
        payload = payload or {}
        done.add((target, str(payload.get("base")), int(payload.get("step") or 1)))
        per_week[(target, occ.split("#", 1)[0])] += 1
    out: list[Due] = []
    for target, person_runs in sorted(runs.items()):
        for run in person_runs:
            pid = run.person_id
            if run.last_due is None or run.snooze_pending or pid not in weeks \
                    or not wants.get(pid, True):
                continue
            tz = zone(run.tz)
            for step in nudge_steps(run.last_due, tz, weeks[pid],
                                    tuple(settings.nudge_after_days)):
                if not start < step.at <= now or (target, run.base, step.rank) in done \
                        or ladder.superseded(person_runs, run, step.at):
                    continue
                week = timing.week_key(step.at, tz)
                rank = per_week[(target, week)] + 1
                if rank > settings.max_dms_per_week:
                    continue
                per_week[(target, week)] = rank
                out.append(Due("nudge", target, f"{week}#nudge{rank}", step.at, person_id=pid,
                               cycle_id=run.cycle_id, tz=run.tz, payload={
                                   "base": run.base, "step": step.rank,
                                   "steps": len(settings.nudge_after_days),
                                   "prompted_at": (run.first_sent or run.last_due).isoformat()}))
    return out


def _escalations(facts: WorkspaceFacts, after_days: int, runs: dict[str, list[PromptRun]],
                 weeks: dict[int, WorkWeek], everyone: Mapping[int, WorkWeek],
                 start: datetime, now: datetime) -> list[Due]:
    # Per cycle: owner -> (their latest prompt reaching its escalation in reach, when).
    ripe: dict[int, dict[int, tuple[PromptRun, datetime]]] = defaultdict(dict)
    for person_runs in runs.values():
        for run in person_runs:
            if run.last_due is None or run.person_id not in weeks or run.cycle_id is None:
                continue
            at = step_at(run.last_due, zone(run.tz), weeks[run.person_id], after_days)
            if at is not None and start - LEAD_DELAY < at <= now:
                ripe[run.cycle_id][run.person_id] = (run, at)
    out: dict[tuple[str, str], Due] = {}
    for cycle_id, owners in ripe.items():
        leads = ladder.leads_from(facts.team_nodes(), facts.active_ids(),
                                  facts.open_krs(cycle_id),
                                  {pid: run for pid, (run, _) in owners.items()})
        lead_ids = {lead for found in leads.values() for lead in found}
        if not lead_ids:
            continue
        people = facts.person
        for owner, found in sorted(leads.items()):
            for lead_id in sorted(found):
                lead, tz = people[lead_id], zone(people[lead_id].tz)
                at = timing.lead_morning(owners[owner][1], tz, everyone[lead_id])
                if at is None or not start < at <= now:
                    continue
                key = (lead.slack_id, f"{timing.week_key(at, tz)}#waiting")
                if key not in out or at < out[key].due_at:
                    out[key] = Due("escalation", key[0], key[1], at, person_id=lead_id,
                                   cycle_id=cycle_id, tz=lead.tz,
                                   payload={"after_days": after_days})
    return list(out.values())


# Every tick works out the steps of every recent prompt again, and they are the same each
# time: the timing is pure, so each is kept once computed (per process, bounded), keyed by
# everything it depends on (a working week by its values).


def _week_key(week: WorkWeek) -> tuple[Any, ...]:
    return (week.days, week.hours, week.calendar, tuple(sorted(week.extra.items())))


def step_at(prompted: datetime, tz: ZoneInfo, week: WorkWeek, days: int) -> datetime | None:
    """``app.calendar.ladder.step_at``, kept."""
    return _step_at(prompted, tz.key, _week_key(week), days)


def nudge_steps(prompted: datetime, tz: ZoneInfo, week: WorkWeek,
                after_days: tuple[int, ...]) -> tuple[timing.Step, ...]:
    """``app.calendar.ladder.nudge_steps``, kept."""
    return _nudge_steps(prompted, tz.key, _week_key(week), after_days)


def _week(key: tuple[Any, ...]) -> WorkWeek:
    days, hours, calendar, extra = key
    return WorkWeek(days=days, hours=hours, calendar=calendar, extra=dict(extra))


@lru_cache(maxsize=1 << 16)
def _step_at(prompted: datetime, tz: str, week: tuple[Any, ...], days: int) -> datetime | None:
    return timing.step_at(prompted, zone(tz), _week(week), days)


@lru_cache(maxsize=1 << 16)
def _nudge_steps(prompted: datetime, tz: str, week: tuple[Any, ...],
                 after_days: tuple[int, ...]) -> tuple[timing.Step, ...]:
    return tuple(timing.nudge_steps(prompted, zone(tz), _week(week), after_days))
