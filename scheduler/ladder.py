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

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
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
    since = start - timing.MAX_SPAN - LEAD_DELAY
    STEPS.forget_before(since)  # no prompt before it is read again
    runs = facts.prompt_runs(since, now)
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


# Every tick works out the steps of every prompt in its window again, and they are the same
# each time: the timing is pure, so each is kept once computed, keyed by everything it
# depends on (a working week by its values). Kept by the prompt's day, and a day is let go
# once the window has moved past it: what is kept is the prompts of the window (bounded by
# the schedules, the zones and working weeks), not every prompt since the process started.


class StepTimes:
    """Step times of prompts, by the prompt's (UTC) day; ``forget_before`` drops the days a
    ladder no longer reads; at most ``limit`` entries (the oldest days go first)."""

    def __init__(self, limit: int = 1 << 16) -> None:
        self.limit = limit
        self._days: dict[date, dict[tuple[Any, ...], Any]] = {}
        self._size = 0
        self._weeks: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # one copy of each week
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def get(self, prompted: datetime, key: tuple[Any, ...], week: WorkWeek,
            compute: Callable[..., Any], *args: Any) -> Any:
        """What ``compute(*args)`` gives for a prompt at ``prompted``, keyed by it, the
        working week and ``key`` (all it depends on)."""
        full = (prompted, self._week(week), *key)
        day = prompted.date()
        bucket = self._days.get(day)
        if bucket is not None:
            found = bucket.get(full, _MISSING)
            if found is not _MISSING:
                return found
        value = compute(*args)
        with self._lock:
            bucket = self._days.setdefault(day, {})
            if full not in bucket:
                bucket[full] = value
                self._size += 1
            while self._size > self.limit and self._days:
                self._size -= len(self._days.pop(min(self._days)))
        return value

    def forget_before(self, when: datetime) -> None:
        """Let go of the prompts of the days before ``when``'s (a day's margin: a prompt is
        kept by its own zone's date)."""
        cutoff = when.astimezone(UTC).date() - timedelta(days=1)
        with self._lock:
            for day in [d for d in self._days if d < cutoff]:
                self._size -= len(self._days.pop(day))

    def clear(self) -> None:
        with self._lock:
            self._days.clear()
            self._weeks.clear()
            self._size = 0

    def _week(self, week: WorkWeek) -> tuple[Any, ...]:
        key = (week.days, week.hours, week.calendar,
               tuple(sorted(week.extra.items())) if week.extra else ())
        kept = self._weeks.get(key)
        if kept is None:
            if len(self._weeks) >= 1024:  # sharing copies only: nothing is lost
                self._weeks.clear()
            kept = self._weeks.setdefault(key, key)
        return kept


_MISSING = object()
STEPS = StepTimes()  # this process's


def step_at(prompted: datetime, tz: ZoneInfo, week: WorkWeek, days: int) -> datetime | None:
    """``app.calendar.ladder.step_at``, kept."""
    value: datetime | None = STEPS.get(prompted, ("at", tz.key, days), week, timing.step_at,
                                       prompted, tz, week, days)
    return value


def nudge_steps(prompted: datetime, tz: ZoneInfo, week: WorkWeek,
                after_days: tuple[int, ...]) -> tuple[timing.Step, ...]:
    """``app.calendar.ladder.nudge_steps``, kept."""
    value: tuple[timing.Step, ...] = STEPS.get(
        prompted, ("nudges", tz.key, after_days), week, _nudge_steps, prompted, tz, week,
        after_days)
    return value


def _nudge_steps(prompted: datetime, tz: ZoneInfo, week: WorkWeek,
                 after_days: tuple[int, ...]) -> tuple[timing.Step, ...]:
    return tuple(timing.nudge_steps(prompted, tz, week, after_days))
