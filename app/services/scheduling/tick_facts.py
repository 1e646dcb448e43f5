"""What a tick reads about many workspaces at once.

A tick works out what is due for every workspace it holds. Read one workspace at a time, that
is a dozen statements per workspace, most of them for workspaces where nothing is due, and
for a thousand workspaces the round trips are the tick. :class:`TickFacts` reads each kind of
fact for all the workspaces of a batch in one statement: the workspaces' watermarks, cycles,
people, teams, memberships and timeline rules up front, and the facts only some workspaces
need (KR owners, teams with OKRs, open KRs, prompts and nudges already enqueued) on first
need, then for every workspace of the batch at once. :class:`WorkspaceFacts` answers, for one
workspace, exactly what the per-workspace queries answered (same rows, same order).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from app.calendar.workweek import WorkWeek
from app.models import (
    Cycle,
    Delivery,
    KeyResult,
    Objective,
    Person,
    SchedulerState,
    Team,
    TeamMember,
    TimelineRule,
    Workspace,
)
from app.services.okrs.cycles import org_today
from app.services.scheduling import ladder, schedules, skips, workweeks
from app.services.scheduling.ladder import OpenKR, PromptRun, TeamNode
from app.services.scheduling.schedules import PersonPlan, in_ids

# Per-cycle facts are read, on first need, for every cycle of the batch this close to today
# (a reminder may fire for a cycle starting or ending up to about two months away).
NEAR = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the tick reads of a person (active or not)."""

    id: int
    slack_id: str
    name: str
    tz: str | None
    active: bool
    nudges: bool
    checkin_schedule: Any
    work_days: Any
    work_hours: Any
    holiday_calendar: Any


class _PerCycle:
    """A fact per (workspace, cycle), read for every near cycle of the batch at once on the
    first miss; a cycle outside that set is read on its own."""

    def __init__(self, session: Session, near: Callable[[], set[int]],
                 read: Callable[[Session, list[int]], Iterable[tuple[Any, ...]]]) -> None:
        self.session, self.near, self.read = session, near, read
        self.rows: dict[int, list[tuple[Any, ...]]] | None = None

    def get(self, cycle_id: int) -> list[tuple[Any, ...]]:
        if self.rows is None:
            self.rows = defaultdict(list)
            self._load(self.near() | {cycle_id})
        elif cycle_id not in self.rows:
            self._load({cycle_id})
        return self.rows[cycle_id]

    def _load(self, cycle_ids: set[int]) -> None:
        assert self.rows is not None
        for cid in cycle_ids:
            self.rows.setdefault(cid, [])
        for row in self.read(self.session, sorted(cycle_ids)):
            self.rows[row[0]].append(row[1:])


class _Batch:
    """What the workspaces of a batch share for the tick: the readers of batch-wide facts.
    It holds nothing of :class:`WorkspaceFacts`, which hold it: no reference cycle, so a
    tick's facts are freed as soon as it lets go of them, not at the next collection."""

    def __init__(self, session: Session, now: datetime, ids: list[int],
                 starts: dict[int, datetime], org: dict[int, tuple[Workspace, list[Cycle]]]
                 ) -> None:
        self.session, self.now, self.ids, self.starts, self.org = session, now, ids, starts, org
        self.shared_weeks: dict[tuple[Any, ...], WorkWeek] = {}
        self.placements: dict[tuple[Any, ...], Any] = {}  # scheduler.enqueue.due_prompts'
        near = partial(_near_cycles, org, now)
        self.owners = _PerCycle(session, near, _owners)
        self.team_okrs = _PerCycle(session, near, _team_okrs)
        self.objective_owners = _PerCycle(session, near, _objective_owners)
        self.open_krs = _PerCycle(session, near, _open_krs)
        self._deliveries: dict[str, tuple[datetime, datetime | None, dict[int, list[Any]]]] = {}

    def near_cycles(self) -> set[int]:
        return _near_cycles(self.org, self.now)

    def deliveries(self, kind: str, ws_id: int, since: datetime,
                   until: datetime | None) -> list[Any]:
        """Rows of ``kind`` due in ``(since, until]`` (``until`` None: no bound), read for the
        whole batch on first need with the same bounds relative to each window start."""
        loaded = self._deliveries.get(kind)
        start = self.starts[ws_id]
        if loaded is None:
            earliest = min(self.starts.values()) - (start - since)
            loaded = self._deliveries[kind] = (earliest, until, _delivery_rows(
                self.session, kind, self.ids, earliest, until))
        if since < loaded[0] or until != loaded[1]:
            return list(_delivery_rows(self.session, kind, [ws_id], since, until)[ws_id])
        return [r for r in loaded[2].get(ws_id, []) if r[-1] > since]


def _near_cycles(org: dict[int, tuple[Workspace, list[Cycle]]], now: datetime) -> set[int]:
    out = set()
    for ws, cycles in org.values():
        today = org_today(ws, now)
        out |= {c.id for c in cycles if c.start_date - NEAR <= today <= c.end_date + NEAR}
    return out


class TickFacts:
    """The facts of a batch of workspaces for one tick at ``now`` (``starts``: each
    workspace's window start, which bounds the deliveries read)."""

    def __init__(self, session: Session, workspaces: Sequence[Workspace], now: datetime,
                 starts: Callable[[datetime | None], datetime]) -> None:
        self.session, self.now = session, now
        self.ids = [ws.id for ws in workspaces]
        ids = self.ids
        states = dict(session.execute(select(
            SchedulerState.workspace_id, SchedulerState.last_tick_at).where(
            in_ids(session, SchedulerState.workspace_id, ids))).tuples().all()) if ids else {}
        by_ws: dict[str, dict[int, list[Any]]] = {k: defaultdict(list) for k in (
            "cycles", "people", "teams", "members", "rules")}
        if ids:
            for c in session.scalars(select(Cycle).where(
                    in_ids(session, Cycle.workspace_id, ids)).order_by(
                    Cycle.workspace_id, Cycle.start_date, Cycle.id)):
                by_ws["cycles"][c.workspace_id].append(c)
        self._load_people(ids, by_ws)
        begins = {ws.id: starts(states.get(ws.id)) for ws in workspaces}
        batch = self.batch = _Batch(session, now, ids, begins, {
            ws.id: (ws, by_ws["cycles"].get(ws.id, [])) for ws in workspaces})
        self.workspaces = {ws.id: WorkspaceFacts(
            batch, ws, ws.id in states, states.get(ws.id), begins[ws.id],
            by_ws["cycles"].get(ws.id, []), by_ws["people"].get(ws.id, []),
            by_ws["teams"].get(ws.id, []), by_ws["members"].get(ws.id, []),
            by_ws["rules"].get(ws.id, [])) for ws in workspaces}
        self.shared_weeks, self.placements = batch.shared_weeks, batch.placements
        self.owners, self.team_okrs = batch.owners, batch.team_okrs
        self.objective_owners, self.open_krs = batch.objective_owners, batch.open_krs
        self.near_cycles, self.deliveries = batch.near_cycles, batch.deliveries

    def _load_people(self, ids: list[int], by_ws: dict[str, dict[int, list[Any]]]) -> None:
        """People, teams, memberships and timeline rules."""
        s = self.session
        if not ids:
            return
        for ws_id, *rest in s.execute(select(
                Person.workspace_id, Person.id, Person.slack_id, Person.name, Person.tz,
                Person.active, Person.nudges, Person.checkin_schedule, Person.work_days,
                Person.work_hours, Person.holiday_calendar).where(
                in_ids(s, Person.workspace_id, ids)).order_by(Person.workspace_id, Person.id)):
            by_ws["people"][ws_id].append(PersonFacts(*rest))
        # Members come as plain rows below, not as each team's collection.
        for team in s.scalars(select(Team).options(lazyload(Team.members)).where(
                in_ids(s, Team.workspace_id, ids)).order_by(Team.workspace_id, Team.id)):
            by_ws["teams"][team.workspace_id].append(team)
        for ws_id, pid, tid in s.execute(select(
                TeamMember.workspace_id, TeamMember.person_id, TeamMember.team_id).where(
                in_ids(s, TeamMember.workspace_id, ids))):
            by_ws["members"][ws_id].append((pid, tid))
        for rule in s.scalars(select(TimelineRule).where(
                in_ids(s, TimelineRule.workspace_id, ids), TimelineRule.enabled.is_(True)).order_by(
                TimelineRule.workspace_id, TimelineRule.key)):
            by_ws["rules"][rule.workspace_id].append(rule)

    def __iter__(self) -> Iterator[WorkspaceFacts]:
        return iter(self.workspaces.values())

    def __getitem__(self, ws_id: int) -> WorkspaceFacts:
        return self.workspaces[ws_id]


class WorkspaceFacts:
    """One workspace's facts for the tick, as the per-workspace queries would read them."""

    def __init__(self, batch: _Batch, ws: Workspace, has_state: bool,
                 last_tick_at: datetime | None, start: datetime, cycles: list[Cycle],
                 people: list[PersonFacts], teams: list[Team], members: list[tuple[int, int]],
                 rules: list[TimelineRule]) -> None:
        self.batch, self.ws, self.id = batch, ws, ws.id
        self.has_state, self.last_tick_at, self.start = has_state, last_tick_at, start
        self.cycles, self.people, self.teams, self.rules = cycles, people, teams, rules
        self.members = members
        self.person = {p.id: p for p in people}
        self._weeks: dict[int, WorkWeek] | None = None
        self._owners: dict[int, set[int]] = {}

    def plans(self) -> list[PersonPlan]:
        """``schedules.checkin_plans``: the active people's effective schedules."""
        teams = {t.id: t for t in self.teams}
        rows = [(pid, tid, t.kind, t.key, t.checkin_schedule) for pid, tid in self.members
                if (t := teams.get(tid)) is not None and t.checkin_schedule is not None]
        return schedules.plans_from(self.ws, [
            (p.id, p.slack_id, p.tz, p.checkin_schedule) for p in self.people if p.active],
            rows)

    def weeks(self) -> dict[int, WorkWeek]:
        """``workweeks.weeks_for``: every person's working week."""
        if self._weeks is None:
            teams = {t.id: t for t in self.teams}
            levels = workweeks.team_levels(
                (pid, t.kind, tid, t.work_days, t.work_hours, t.holiday_calendar)
                for pid, tid in self.members if (t := teams.get(tid)) is not None
                and (t.work_days is not None or t.work_hours is not None
                     or t.holiday_calendar is not None))
            self._weeks = workweeks.weeks_from(self.ws, [
                (p.id, p.work_days, p.work_hours, p.holiday_calendar) for p in self.people],
                levels, self.batch.shared_weeks)
        return self._weeks

    def kr_owners(self, cycle_id: int) -> set[int]:
        """``schedules.kr_owner_ids``."""
        found = self._owners.get(cycle_id)
        if found is None:
            found = self._owners[cycle_id] = {
                owner for ws_id, owner in self.batch.owners.get(cycle_id) if ws_id == self.id}
        return found

    def teams_with_okrs(self, cycle_id: int) -> set[int]:
        return {team for ws_id, team in self.batch.team_okrs.get(cycle_id) if ws_id == self.id}

    def objective_owners(self, cycle_id: int) -> set[int]:
        return {o for ws_id, o in self.batch.objective_owners.get(cycle_id) if ws_id == self.id}

    def open_krs(self, cycle_id: int) -> list[OpenKR]:
        """``ladder.open_krs`` (every owner)."""
        return [OpenKR(*row[1:]) for row in self.batch.open_krs.get(cycle_id)
                if row[0] == self.id]

    def team_nodes(self) -> dict[int, TeamNode]:
        return {t.id: TeamNode(t.id, t.name, t.parent_id, t.lead_id) for t in self.teams}

    def active_ids(self) -> set[int]:
        return {p.id for p in self.people if p.active}

    def active(self, ids: set[int]) -> list[tuple[int, str, str]]:
        """(id, Slack id, zone) of the active people among ``ids``, by id."""
        return [(p.id, p.slack_id, p.tz or "UTC") for p in self.people
                if p.active and p.id in ids]

    def prompt_runs(self, since: datetime, until: datetime) -> dict[str, list[PromptRun]]:
        """``ladder.prompt_runs``: read after this tick's prompts are inserted."""
        rows = self.batch.deliveries("prompt", self.id, since, until)
        return ladder.runs_from(r[:-1] for r in rows)

    def nudges_since(self, since: datetime) -> list[tuple[str, str, Any]]:
        """(target, occurrence, payload) of the nudges due after ``since``."""
        return [(r[0], r[1], r[2]) for r in self.batch.deliveries("nudge", self.id, since, None)]


def _delivery_rows(session: Session, kind: str, ids: list[int], since: datetime,
                   until: datetime | None) -> dict[int, list[Any]]:
    """The rows the ladder reads, with only the payload's keys it reads (a sent row's
    payload holds its whole rendered message: decoding it is most of a quiet tick)."""
    base = Delivery.payload["base"].as_string()
    if kind == "prompt":
        query = select(Delivery.workspace_id, Delivery.target, Delivery.occurrence, base,
                       Delivery.state, Delivery.due_at, Delivery.sent_at, Delivery.person_id,
                       Delivery.cycle_id, Delivery.tz, Delivery.due_at
                       ).where(Delivery.state.in_(ladder.LIVE))
    else:
        query = select(Delivery.workspace_id, Delivery.target, Delivery.occurrence, base,
                       Delivery.payload["step"].as_integer(), Delivery.due_at)
    query = query.where(in_ids(session, Delivery.workspace_id, ids), Delivery.kind == kind,
                        Delivery.due_at > since)
    if until is not None:
        query = query.where(Delivery.due_at <= until)
    out: dict[int, list[Any]] = defaultdict(list)
    for ws_id, target, occ, got, *rest in session.execute(query.order_by(Delivery.id)):
        if kind == "prompt":  # the payload as ladder.runs_from reads it
            payload: Any = None if got is None else {"base": got}
        else:
            payload, rest = {"base": got, "step": rest[0]}, rest[1:]
        out[ws_id].append((target, occ, payload, *rest))
    return out


def _owners(session: Session, cycle_ids: list[int]) -> Iterable[tuple[Any, ...]]:
    return session.execute(
        select(Objective.cycle_id, KeyResult.workspace_id, KeyResult.owner_id).distinct()
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(in_ids(session, Objective.cycle_id, cycle_ids), Objective.is_draft.is_(False),
               KeyResult.owner_id.isnot(None))).tuples()


def _team_okrs(session: Session, cycle_ids: list[int]) -> Iterable[tuple[Any, ...]]:
    return session.execute(
        select(Objective.cycle_id, Objective.workspace_id, Objective.team_id).distinct().where(
            in_ids(session, Objective.cycle_id, cycle_ids), Objective.team_id.isnot(None))).tuples()


def _objective_owners(session: Session, cycle_ids: list[int]) -> Iterable[tuple[Any, ...]]:
    return session.execute(
        select(Objective.cycle_id, Objective.workspace_id, Objective.owner_id).where(
            in_ids(session, Objective.cycle_id, cycle_ids),
            Objective.owner_id.isnot(None))).tuples()


def _open_krs(session: Session, cycle_ids: list[int]) -> Iterable[tuple[Any, ...]]:
    return session.execute(
        select(Objective.cycle_id, KeyResult.workspace_id, KeyResult.key, KeyResult.title,
               KeyResult.owner_id, Objective.team_id, KeyResult.last_checkin_at)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(in_ids(session, Objective.cycle_id, cycle_ids), Objective.is_draft.is_(False),
               Objective.visibility == "public",
               KeyResult.state == "active", KeyResult.owner_id.isnot(None),
               KeyResult.kr_type.notin_(sorted(skips.AUTO_SCORED)))
        .order_by(Objective.cycle_id, Objective.position, Objective.id, KeyResult.position,
                  KeyResult.id)).tuples()
