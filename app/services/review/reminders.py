"""Scoring DMs and retrospective digests as scheduler deliveries.

The scheduler's tick asks :func:`due` what to enqueue and, at send time,
:func:`reminder_facts` / :func:`retro_for` what to say (facts are read again then, so someone
who scored in between gets nothing); ``scheduler/review_jobs.py`` renders them.

* ``review_reminder``: while a cycle is in review and until its round's deadline, one DM per
  person per local date to whoever still owes a self or final score, at 10:00 their time
  (the day the review opens: at once). Occurrence = the local date, so it is at most once a
  day whatever the number of ticks, processes or cycles. The first one is the request itself.
* ``retro``: once a reviewed cycle is closed, its retrospective to each team's channel.
  Occurrence = ``<cycle>:<team>``: once per team and cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from app.config import ScoringSettings, Settings
from app.domain import CyclePhase, Due
from app.models import Cycle, Delivery, Objective, Person, ReviewRound, Team, Workspace
from app.services.okrs import cycles
from app.services.review import retro, scores
from app.services.scheduling import workweeks

REMINDER = "review_reminder"
RETRO = "retro"
KINDS = (REMINDER, RETRO)
REMIND_AT = time(10, 0)
# A closed cycle older than this gets no retrospective post (e.g. history imported later).
RETRO_WINDOW = timedelta(days=120)
AUTO_OPEN_WITHIN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What a scoring DM says (``reminder`` for the days after the first)."""

    name: str  # the person's whole name (the DM addresses them by its first word)
    cycle_name: str
    deadline: date
    self_count: int
    final_count: int
    reminder: bool


def _rounds(session: Session, ws: Workspace, phase: CyclePhase) -> list[tuple[Cycle, ReviewRound]]:
    return list(session.execute(
        select(Cycle, ReviewRound).join(ReviewRound, ReviewRound.cycle_id == Cycle.id)
        .where(Cycle.workspace_id == ws.id, Cycle.phase == phase.value)
        .order_by(Cycle.end_date, Cycle.id)
    ).tuples())


def reminder_at(rnd: ReviewRound, tz: str, day: Any) -> datetime:
    zone = ZoneInfo(tz or "UTC")
    at = datetime.combine(day, REMIND_AT, zone)
    if rnd.opened_at.astimezone(zone).date() == day:
        at = max(at, rnd.opened_at)
    return at.astimezone(UTC)


def auto_open(*, session: Session, ws: Workspace, now: datetime,
              settings: ScoringSettings) -> list[Cycle]:
    """The timeline rule that starts scoring: with a planning timeline (any preset but
    ``none``), a cycle still ``active`` after its last day enters review on the next day
    (within a week, so old cycles are left alone). Returns the cycles opened.

    Every process's tick may try at once: the round's unique key lets one win; the others'
    attempts roll back to a savepoint and change nothing.
    """
    if (ws.timeline_preset or "none") == "none":
        return []
    today = cycles.org_today(ws, now)
    opened = []
    for cycle in session.scalars(
            select(Cycle).where(Cycle.workspace_id == ws.id,
                                Cycle.phase == CyclePhase.ACTIVE.value,
                                Cycle.end_date < today,
                                Cycle.end_date >= today - AUTO_OPEN_WITHIN)).all():
        if scores.review_round(session=session, workspace_id=ws.id, cycle=cycle) is not None:
            continue
        try:
            with session.begin_nested():
                scores.open_review(session=session, workspace_id=ws.id, cycle=cycle,
                                    today=today, now=now, settings=settings, actor_id=None,
                                    actor_label="timeline")
        except IntegrityError:
            continue
        opened.append(cycle)
    return opened


def _may_open(ws: Workspace, known: Sequence[Cycle], now: datetime) -> bool:
    """Whether :func:`auto_open` can find a cycle to open among the workspace's cycles."""
    if (ws.timeline_preset or "none") == "none":
        return False
    today = cycles.org_today(ws, now)
    return any(c.phase == CyclePhase.ACTIVE.value and today - AUTO_OPEN_WITHIN <= c.end_date
               < today for c in known)


def due(*, session: Session, ws: Workspace, now: datetime,
        settings: ScoringSettings | None = None,
        known: Sequence[Cycle] | None = None) -> list[Due]:
    """Reminders and retrospectives due at ``now`` (inserting them twice changes nothing).

    With ``settings``, the timeline rule :func:`auto_open` runs first. ``known``: all the
    workspace's cycles when the caller has read them; the queries that cannot find anything
    among them (no cycle to open, in review or closed) are then left out.
    """
    opened: list[Cycle] = []
    if settings is not None and (known is None or _may_open(ws, known, now)):
        opened = auto_open(session=session, ws=ws, now=now, settings=settings)
    phases = None if known is None or opened else {c.phase for c in known}
    items: list[Due] = []
    in_review = [] if phases is not None and CyclePhase.REVIEW.value not in phases \
        else _rounds(session, ws, CyclePhase.REVIEW)
    for cycle, rnd in in_review:
        pending = scores.pending_scorers(session=session, workspace_id=ws.id, cycle=cycle)
        weeks = workweeks.weeks_for(session, ws, [p.person_id for p in pending])
        for p in pending:
            zone = ZoneInfo(p.tz or "UTC")
            day = now.astimezone(zone).date()
            week = weeks.get(p.person_id)
            # On the person's working days only, within their working hours: a day whose
            # reminder would be held to another day has none (that day sends its own).
            at = reminder_at(rnd, p.tz, day)
            placed = week.place(at, zone) if week is not None else at
            if day > rnd.deadline or placed is None or placed > now \
                    or placed.astimezone(zone).date() != day:
                continue
            at = placed
            items.append(Due(kind=REMINDER, target=p.slack_id, occurrence=day.isoformat(),
                             due_at=at, person_id=p.person_id, cycle_id=cycle.id, tz=p.tz,
                             payload={"cycle": cycle.name}))
    today = cycles.org_today(ws, now)
    closed = [] if phases is not None and CyclePhase.CLOSED.value not in phases \
        else _rounds(session, ws, CyclePhase.CLOSED)
    for cycle, _rnd in closed:
        if cycle.end_date + RETRO_WINDOW < today:
            continue
        teams = session.scalars(
            select(Team).options(lazyload(Team.members))
            .where(Team.workspace_id == ws.id, Team.channel_id.isnot(None),
                   Team.id.in_(select(Objective.team_id).where(
                       Objective.cycle_id == cycle.id, Objective.is_draft.is_(False))))
            .order_by(Team.id)).all()
        items += [Due(kind=RETRO, target=str(t.channel_id),
                      occurrence=f"{cycle.name}:{t.key}"[:100], due_at=now, team_id=t.id,
                      cycle_id=cycle.id, tz=ws.timezone) for t in teams]
    return items


def reminder_facts(*, session: Session, ws: Workspace, row: Delivery) -> ReminderFacts | str:
    """What to say in a ``review_reminder`` at send time, or why to skip it."""
    cycle = session.get(Cycle, row.cycle_id) if row.cycle_id else None
    person = session.get(Person, row.person_id) if row.person_id else None
    if cycle is None or person is None or not person.active:
        return "person or cycle removed"
    rnd = scores.review_round(session=session, workspace_id=ws.id, cycle=cycle)
    if cycle.phase != CyclePhase.REVIEW.value or rnd is None:
        return "the review is over"
    owed = next((p for p in scores.pending_scorers(session=session, workspace_id=ws.id,
                                                    cycle=cycle) if p.person_id == person.id),
                None)
    if owed is None:
        return "scored already"
    # The first DM is the request itself: on the day the review opened, or on the person's
    # first working day after it.
    opened = rnd.opened_at.astimezone(ZoneInfo(person.tz or "UTC")).date()
    week = workweeks.week_for(session, ws, person)
    first = row.occurrence in (opened.isoformat(),
                               (week.next_working(opened) or opened).isoformat())
    return ReminderFacts(name=person.name, cycle_name=cycle.name, deadline=rnd.deadline,
                         self_count=len(owed.self_krs), final_count=len(owed.final_krs),
                         reminder=not first)


def retro_for(*, session: Session, ws: Workspace, row: Delivery, settings: Settings,
              now: datetime) -> retro.Retro | str:
    """The team's retrospective for a ``retro`` delivery at send time, or why to skip it."""
    cycle = session.get(Cycle, row.cycle_id) if row.cycle_id else None
    team = session.get(Team, row.team_id) if row.team_id else None
    if cycle is None or team is None:
        return "team or cycle removed"
    r = retro.build(session=session, workspace_id=ws.id, cycle=cycle,
                    today=cycles.org_today(ws, now), now=now, settings=settings.scoring,
                    include_private=False, team_key=team.key, scope_name=team.name)
    if r.numbers.kr_count == 0:
        return "no public key results in this team"
    return r
