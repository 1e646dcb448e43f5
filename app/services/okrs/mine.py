"""What one person sees: the current cycle's report, their open KRs and their teams."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings, Settings
from app.domain import (
    CycleOverview,
    CyclePhase,
    HomeFacts,
    KRState,
    KRView,
    ObjectiveView,
    TeamOverview,
)
from app.models import Cycle, Person, Team, TeamMember, Workspace
from app.services import access
from app.services.errors import CycleClosed, NotFound
from app.services.okrs import cycles, rescore
from app.services.okrs import report as okrs
from app.services.okrs.cache import ReportCache, data_stamp
from app.services.okrs.report import CycleReport


@dataclass(frozen=True)
class Scope:
    """The viewer: used to drop private objectives they may not see."""

    person_id: int
    slack_id: str
    is_admin: bool


def today_for(session: Session, workspace_id: int, now: datetime) -> date:
    ws = session.get(Workspace, workspace_id)
    return cycles.org_today(ws, now) if ws else now.date()


def current_report(*, session: Session, workspace_id: int, now: datetime,
                   settings: ScoringSettings, cycle_name: str | None = None,
                   cache: ReportCache | None = None) -> CycleReport | None:
    """The scored report of the current cycle (or of ``cycle_name``); None without cycles.

    With a ``cache``, an unchanged cycle is not scored again (see report_cache).
    """
    stamp = data_stamp(session, workspace_id) if cache is not None else None
    return _report(session, workspace_id, now, settings, cycle_name, cache, stamp)


def _report(session: Session, workspace_id: int, now: datetime, settings: ScoringSettings,
            cycle_name: str | None, cache: ReportCache | None,
            stamp: str | None) -> CycleReport | None:
    if cache is not None and stamp is not None:
        return _cached_report(session, workspace_id, now, settings, cycle_name, cache, stamp)
    today = today_for(session, workspace_id, now)
    found = cycles.named_or_current(session=session, workspace_id=workspace_id, today=today,
                                    name=cycle_name or None)
    if found is None:
        return None
    cycle = found

    if cache is None:
        return okrs.cycle_report(session=session, workspace_id=workspace_id, cycle=cycle,
                                 today=today, now=now, settings=settings)

    def build() -> tuple[CycleReport, rescore.Basis | None]:
        return rescore.build(session=session, workspace_id=workspace_id, cycle=cycle,
                             today=today, now=now, settings=settings)

    return cache.get(session, workspace_id, cycle.id, today, now, build,
                     patch=_patcher(session, workspace_id, today, now, settings))


def _patcher(session: Session, workspace_id: int, today: date, now: datetime,
             settings: ScoringSettings,
             ) -> Callable[[rescore.Basis, frozenset[int]],
                           tuple[CycleReport, rescore.Basis] | None]:
    """How the cache brings a report up to date after check-ins on some KRs."""

    def patch(basis: rescore.Basis,
              kr_ids: frozenset[int]) -> tuple[CycleReport, rescore.Basis] | None:
        return rescore.patched(session=session, workspace_id=workspace_id, basis=basis,
                               kr_ids=kr_ids, today=today, now=now, settings=settings)

    return patch


class _Calendar(NamedTuple):
    timezone: str | None
    cycles: tuple[tuple[int, str, date, date], ...]  # id, name, start, end; by start date


def _calendar(session: Session, workspace_id: int) -> _Calendar:
    tz = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id))
    rows = session.execute(select(Cycle.id, Cycle.name, Cycle.start_date, Cycle.end_date)
                           .where(Cycle.workspace_id == workspace_id)
                           .order_by(Cycle.start_date)).all()
    return _Calendar(tz, tuple((r[0], r[1], r[2], r[3]) for r in rows))


class _Dates(NamedTuple):
    id: int
    name: str
    start_date: date
    end_date: date


def _cached_report(session: Session, workspace_id: int, now: datetime,
                   settings: ScoringSettings, cycle_name: str | None, cache: ReportCache,
                   stamp: str) -> CycleReport | None:
    """:func:`current_report` when nothing changed since the cache saw the workspace: the
    stamp is the only query (the time zone and cycles are kept under it too)."""
    cal = cache.memo(workspace_id, ("calendar",), stamp,
                     lambda: _calendar(session, workspace_id), tables=("workspaces", "cycles"))
    today = cycles.zone_today(cal.timezone, now)
    dated = [_Dates(*c) for c in cal.cycles]
    if cycle_name:
        found = next((c for c in dated if c.name == cycle_name), None)
        if found is None:
            raise NotFound(f"no cycle named {cycle_name!r}")
    else:
        found = cycles.pick_current(dated, today)
    if found is None:
        return None
    cycle_id = found.id

    def build() -> tuple[CycleReport, rescore.Basis | None]:
        cycle = session.get(Cycle, cycle_id)
        if cycle is None:  # deleted by another transaction since the stamp was read
            raise NotFound("that cycle no longer exists")
        return rescore.build(session=session, workspace_id=workspace_id, cycle=cycle,
                             today=today, now=now, settings=settings)

    return cache.get(session, workspace_id, cycle_id, today, now, build, stamp=stamp,
                     patch=_patcher(session, workspace_id, today, now, settings))


def visible(session: Session, workspace_id: int, report: CycleReport, scope: Scope,
            cache: ReportCache | None = None, stamp: str | None = None) -> list[ObjectiveView]:
    """The objectives ``scope`` may see; with a ``cache`` and this transaction's ``stamp``,
    the teams they lead are read once per change."""

    def led_keys() -> set[str]:
        return access.led_team_keys(session=session, workspace_id=workspace_id,
                                    person_id=scope.person_id)

    if scope.is_admin:
        led: set[str] = set()
    elif cache is not None and stamp is not None:  # the teams table is in the stamp
        led = cache.memo(workspace_id, ("led", scope.person_id), stamp, led_keys,
                         tables=("teams",))
    else:
        led = led_keys()
    return access.visible_views(report.objectives, slack_id=scope.slack_id,
                               is_admin=scope.is_admin, led_keys=led)


def owned_krs(report: CycleReport, slack_id: str, *, open_only: bool = True) -> list[KRView]:
    """KRs the person owns, plus unowned KRs of objectives they own.

    ``open_only`` (the KRs to check in on): CycleClosed for a closed cycle, which is read-only.
    """
    if open_only and report.cycle.phase == CyclePhase.CLOSED:
        raise CycleClosed(report.cycle.name)
    out: list[KRView] = []
    for o in report.objectives:
        for kr in o.key_results:
            mine = kr.owner_slack_id == slack_id or (
                kr.owner_slack_id is None and o.owner_slack_id == slack_id)
            if mine and (not open_only or kr.state == KRState.ACTIVE):
                out.append(kr)
    return out


def team_memberships(*, session: Session, workspace_id: int,
                     person_id: int) -> list[tuple[str, str]]:
    """(team key, team name) of every team the person is in or leads."""
    rows = session.execute(
        select(Team.key, Team.name).where(
            Team.workspace_id == workspace_id,
            (Team.lead_id == person_id) | Team.id.in_(
                select(TeamMember.team_id).where(TeamMember.workspace_id == workspace_id,
                                                 TeamMember.person_id == person_id)))
        .order_by(Team.name)
    ).all()
    return [(k, n) for k, n in rows]


@dataclass(frozen=True)
class Seen:
    """A scored cycle and the objectives in it that the viewer may see."""

    report: CycleReport
    objectives: list[ObjectiveView]


def seen_report(*, session: Session, workspace_id: int, now: datetime,
                settings: ScoringSettings, scope: Scope, cycle_name: str | None = None,
                cache: ReportCache | None = None) -> Seen | None:
    """:func:`current_report` narrowed to what ``scope`` may see; None without cycles."""
    stamp = data_stamp(session, workspace_id) if cache is not None else None
    report = _report(session, workspace_id, now, settings, cycle_name, cache, stamp)
    if report is None:
        return None
    return Seen(report, visible(session, workspace_id, report, scope, cache, stamp))


def cycle_overview(*, session: Session, workspace_id: int, now: datetime,
                   settings: ScoringSettings, name: str | None = None,
                   cache: ReportCache | None = None) -> CycleOverview | None:
    """The named cycle (else the current one) on the organisation's date; None without
    cycles."""
    ws = session.get(Workspace, workspace_id)
    today = cycles.org_today(ws, now) if ws else now.date()
    row = cycles.named_or_current(session=session, workspace_id=workspace_id, today=today,
                                  name=name)
    if row is None:
        return None
    view = cycles.view(row, today)
    report = current_report(session=session, workspace_id=workspace_id, now=now,
                            settings=settings, cycle_name=row.name, cache=cache)
    return CycleOverview(view=view, today=today,
                         timeline_preset=ws.timeline_preset if ws else None,
                         company_score=report.company_score if report else None)


def home_facts(*, session: Session, workspace_id: int, person_id: int, now: datetime,
               settings: Settings, cache: ReportCache | None = None) -> HomeFacts | None:
    """Someone's Home tab: their open KRs and their teams' objectives in the current cycle;
    None when the person is not in this workspace."""
    person = session.get(Person, person_id)
    if person is None or person.workspace_id != workspace_id:
        return None
    report = current_report(session=session, workspace_id=workspace_id, now=now,
                            settings=settings.scoring, cache=cache)
    is_admin = bool(person.is_admin) or person.slack_id in settings.admins
    teams: list[TeamOverview] = []
    krs: list[KRView] = []
    if report is not None:
        if report.cycle.phase != CyclePhase.CLOSED:  # nothing to check in on in a closed cycle
            krs = owned_krs(report, person.slack_id)
        seen = visible(session, workspace_id, report,
                       Scope(person.id, person.slack_id, is_admin))
        for key, name in team_memberships(session=session, workspace_id=workspace_id,
                                          person_id=person.id)[:8]:
            objs = tuple(o for o in seen if o.team_key == key)
            teams.append(TeamOverview(name, report.team_scores.get(key), objs))
    return HomeFacts(name=person.name, tz=person.tz, slack_id=person.slack_id,
                     cycle=report.cycle if report else None, my_krs=tuple(krs),
                     teams=tuple(teams), away_until=person.away_until)
