"""The facts of the follow-up ladder: the prompts people were sent, who their KRs' lead is,
and which KRs are still waiting for an update since a prompt.

Read by the scheduler (what is due, and the lead's "waiting on" DM at send time) and by
``/okr next`` (the steps still to come). The timing itself is pure: ``app.calendar.ladder``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import cadence
from app.calendar import ladder as timing
from app.domain import CyclePhase, WaitingKR
from app.models import Delivery, KeyResult, Objective, Person, PromptSkip, Team, Workspace
from app.services.scheduling import skips
from app.services.scheduling.schedules import cycle_on, cycles_of, phase_on, zone
from app.services.scheduling.workweeks import weeks_for

LIVE = ("pending", "sending", "sent")  # a prompt that went, or will


@dataclass(frozen=True, slots=True)
class PromptRun:
    """A scheduled prompt and its snoozes to one person."""

    target: str
    base: str  # the scheduled local date, "2026-03-02"
    person_id: int | None
    cycle_id: int | None
    tz: str
    first_due: datetime
    first_sent: datetime | None  # KRs checked in on since then count as answered
    last_due: datetime | None  # the latest send's scheduled instant: follow-ups count from it
    snooze_pending: bool


def prompt_runs(session: Session, ws_id: int, *, since: datetime, until: datetime,
                person_ids: Iterable[int] | None = None) -> dict[str, list[PromptRun]]:
    """Prompts due in ``(since, until]`` that went out or will, by target, oldest first."""
    query = select(Delivery.target, Delivery.occurrence, Delivery.payload, Delivery.state,
                   Delivery.due_at, Delivery.sent_at, Delivery.person_id, Delivery.cycle_id,
                   Delivery.tz).where(
        Delivery.workspace_id == ws_id, Delivery.kind == "prompt", Delivery.state.in_(LIVE),
        Delivery.due_at > since, Delivery.due_at <= until)
    if person_ids is not None:
        query = query.where(Delivery.person_id.in_(list(person_ids)))
    return runs_from(session.execute(query).tuples())


def runs_from(rows: Iterable[Sequence[Any]]) -> dict[str, list[PromptRun]]:
    """:func:`prompt_runs` from its rows (target, occurrence, payload, state, due, sent,
    person, cycle, zone): what a tick reading many workspaces at once groups per workspace."""
    grouped: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for target, occ, payload, state, due_at, sent_at, pid, cid, tz in rows:
        base = str((payload or {}).get("base") or occ.split("#", 1)[0])
        grouped[(target, base)].append(_Row(state, due_at, sent_at, pid, cid, tz))
    out: dict[str, list[PromptRun]] = defaultdict(list)
    for (target, base), group in sorted(grouped.items()):
        sent = sorted((r for r in group if r.state == "sent" and r.sent_at is not None),
                      key=lambda r: (r.sent_at, r.due_at))
        one = group[0]
        out[target].append(PromptRun(
            target=target, base=base, person_id=one.person_id, cycle_id=one.cycle_id,
            tz=one.tz or "UTC", first_due=min(r.due_at for r in group),
            first_sent=sent[0].sent_at if sent else None,
            last_due=sent[-1].due_at if sent else None,
            snooze_pending=any(r.state != "sent" for r in group)))
    return out


class _Row(NamedTuple):
    state: str
    due_at: datetime
    sent_at: datetime | None
    person_id: int | None
    cycle_id: int | None
    tz: str | None


def superseded(runs: list[PromptRun], run: PromptRun, at: datetime) -> bool:
    """Whether a later prompt to the same person goes before ``at``: it has its own ladder."""
    return any(r.base > run.base and r.first_due <= at for r in runs)


# --- who hears about a KR --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamNode:
    id: int
    name: str
    parent_id: int | None
    lead_id: int | None


def teams_of(session: Session, ws_id: int) -> dict[int, TeamNode]:
    return {r[0]: TeamNode(*r) for r in session.execute(
        select(Team.id, Team.name, Team.parent_id, Team.lead_id).where(
            Team.workspace_id == ws_id))}


def lead_for(teams: Mapping[int, TeamNode], team_id: int | None, owner_id: int,
             active: set[int]) -> int | None:
    """The lead who hears about a KR of ``team_id``: its team's lead, else (no lead, the
    owner leads it, or the lead is deactivated) the parent team's, and so on up."""
    seen: set[int] = set()
    while team_id is not None and team_id in teams and team_id not in seen:
        seen.add(team_id)
        node = teams[team_id]
        if node.lead_id is not None and node.lead_id != owner_id and node.lead_id in active:
            return node.lead_id
        team_id = node.parent_id
    return None


@dataclass(frozen=True, slots=True)
class OpenKR:
    key: str
    title: str
    owner_id: int
    team_id: int | None
    last_checkin_at: datetime | None


def open_krs(session: Session, ws_id: int, cycle_id: int,
             owner_ids: Iterable[int] | None = None) -> list[OpenKR]:
    """Active KRs of public, published objectives in a cycle, with an owner, that wait for
    their owner (not those scored from linked issues or child objectives)."""
    query = (select(KeyResult.key, KeyResult.title, KeyResult.owner_id, Objective.team_id,
                    KeyResult.last_checkin_at)
             .join(Objective, Objective.id == KeyResult.objective_id)
             .where(KeyResult.workspace_id == ws_id, Objective.cycle_id == cycle_id,
                    Objective.is_draft.is_(False), Objective.visibility == "public",
                    KeyResult.state == "active", KeyResult.owner_id.isnot(None),
                    KeyResult.kr_type.notin_(sorted(skips.AUTO_SCORED)))
             .order_by(Objective.position, Objective.id, KeyResult.position, KeyResult.id))
    if owner_ids is not None:
        query = query.where(KeyResult.owner_id.in_(list(owner_ids)))
    return [OpenKR(*r) for r in session.execute(query)]


def active_ids(session: Session, ws_id: int) -> set[int]:
    return set(session.scalars(select(Person.id).where(Person.workspace_id == ws_id,
                                                       Person.active.is_(True))))


# --- "waiting on" ----------------------------------------------------------------------------


def waiting_on(*, session: Session, ws: Workspace, lead_id: int, now: datetime,
               after_days: int) -> list[WaitingKR]:
    """The KRs whose lead is ``lead_id`` and whose owner was prompted at least ``after_days``
    working days ago without updating them since: computed now, so never stale.

    Owners who are away today, deactivated, or skipped that prompt's week are left out."""
    today = now.astimezone(zone(ws.timezone)).date()
    cycle = cycle_on(cycles_of(session=session, workspace_id=ws.id), today)
    if cycle is None or phase_on(cycle, today) != CyclePhase.ACTIVE or after_days <= 0:
        return []
    teams, active = teams_of(session, ws.id), active_ids(session, ws.id)
    krs = [kr for kr in open_krs(session, ws.id, cycle.id)
           if lead_for(teams, kr.team_id, kr.owner_id, active) == lead_id]
    owners = {kr.owner_id for kr in krs} & active
    if not owners:
        return []
    people = {p.id: p for p in session.scalars(select(Person).where(
        Person.workspace_id == ws.id, Person.id.in_(owners)))}
    weeks = weeks_for(session, ws, owners)
    runs = prompt_runs(session, ws.id, since=now - timing.MAX_SPAN * 2, until=now,
                       person_ids=owners)
    out: list[WaitingKR] = []
    for pid in sorted(owners, key=lambda i: (people[i].name, i)):
        person = people[pid]
        tz = zone(person.tz)
        ripe = [r for r in runs.get(person.slack_id, []) if r.first_sent and r.last_due and (
            (at := timing.step_at(r.last_due, tz, weeks[pid], after_days)) is not None
            and at <= now)]
        if not ripe or skips.is_away(person.away_until, now.astimezone(tz).date(),
                                     person.away_from):
            continue
        run = ripe[-1]
        since = date.fromisoformat(run.base)
        if _skipped_week(session, ws.id, pid, since):
            continue
        out += [WaitingKR(teams[kr.team_id].name if kr.team_id in teams else "",
                          person.slack_id, person.name, kr.title, kr.key, since)
                for kr in krs if kr.owner_id == pid
                and not skips.updated_since(kr.last_checkin_at, run.first_sent)]  # type: ignore[arg-type]
    return out


def _skipped_week(session: Session, ws_id: int, person_id: int, day: date) -> bool:
    return session.scalar(select(PromptSkip.id).where(
        PromptSkip.workspace_id == ws_id, PromptSkip.person_id == person_id,
        PromptSkip.week_of == cadence.week_of(day))) is not None


def leads_waiting(*, session: Session, ws_id: int, cycle_id: int,
                  runs: Mapping[int, PromptRun]) -> dict[int, set[int]]:
    """For each owner in ``runs`` (person id -> the prompt reaching its escalation now): the
    leads of their KRs not updated since that prompt."""
    return leads_from(teams_of(session, ws_id), active_ids(session, ws_id),
                      open_krs(session, ws_id, cycle_id, owner_ids=runs), runs)


def leads_from(teams: Mapping[int, TeamNode], active: set[int], krs: Iterable[OpenKR],
               runs: Mapping[int, PromptRun]) -> dict[int, set[int]]:
    """:func:`leads_waiting` from the workspace's teams, active people and the cycle's open
    KRs (those of owners not in ``runs`` are passed over)."""
    out: dict[int, set[int]] = defaultdict(set)
    for kr in krs:
        if kr.owner_id not in runs:
            continue
        run = runs[kr.owner_id]
        if run.first_sent is None or skips.updated_since(kr.last_checkin_at, run.first_sent):
            continue
        lead = lead_for(teams, kr.team_id, kr.owner_id, active)
        if lead is not None:
            out[kr.owner_id].add(lead)
    return out
