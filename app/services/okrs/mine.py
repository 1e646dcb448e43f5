"""What one person sees: the current cycle's report, their open KRs and their teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import KRState, KRView, ObjectiveView
from app.models import Team, TeamMember, Workspace
from app.services import access
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.okrs.cache import ReportCache
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
    today = today_for(session, workspace_id, now)
    if cycle_name:
        cycle = cycles.by_name(session=session, workspace_id=workspace_id, name=cycle_name)
    else:
        found = cycles.current(session=session, workspace_id=workspace_id, today=today)
        if found is None:
            return None
        cycle = found

    def build() -> CycleReport:
        return okrs.cycle_report(session=session, workspace_id=workspace_id, cycle=cycle,
                                 today=today, now=now, settings=settings)

    if cache is None:
        return build()
    return cache.get(session, workspace_id, cycle.id, today, now, build)


def visible(session: Session, workspace_id: int, report: CycleReport,
            scope: Scope) -> list[ObjectiveView]:
    led = set() if scope.is_admin else access.led_team_keys(
        session=session, workspace_id=workspace_id, person_id=scope.person_id)
    return access.visible_views(report.objectives, slack_id=scope.slack_id,
                               is_admin=scope.is_admin, led_keys=led)


def owned_krs(report: CycleReport, slack_id: str, *, open_only: bool = True) -> list[KRView]:
    """KRs the person owns, plus unowned KRs of objectives they own."""
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
