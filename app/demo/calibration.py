"""Do the demo's lights agree with what the simulation intends?

Each plan in :mod:`app.demo.simulate` says how its KR moves (``final`` reached along a
``shape``, a milestone's ``done_week``, a KR that stops checking in), without the noise,
skipped weeks, owners' declarations and check-in times the simulation adds. By a given week,
an objective is intended **on pace** when its plans, rolled up with the objective's own rules,
are within ``yellow_gap`` of a straight line to its goal (1.0 committed,
``aspirational_target`` otherwise; a milestone is on that line until its due date passes),
else **behind**. A KR whose plan stops checking in is intended **stale** from two
missed weeks on. :func:`snapshot` replays the quarter into a scratch database up to the
Friday of a given week and scores it; :func:`agreement` compares its lights with the intent:
green means on pace, yellow or red means behind, and an intended-stale KR must show outdated.
Used by ``bench/bench_lights.py`` and by ``okr demo`` (the week-7 tree).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.bootstrap import bootstrap
from app.config import Settings
from app.db import unit_of_work
from app.demo import simulate
from app.demo.context import DemoContext
from app.demo.tree import render_tree
from app.domain import (
    Commitment,
    CycleWindow,
    KRFacts,
    KRType,
    ObjectiveFacts,
    RollupMode,
    TrafficLight,
)
from app.models import Cycle, IssueLink, KeyResult, Objective, Workspace
from app.services.data.imports import load as imports
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.tenancy import workspaces

WEEKS = (3, 7, 11)
ON_PACE, BEHIND = "on pace", "behind"


@dataclass(frozen=True, slots=True)
class Snapshot:
    week: int
    now: datetime
    report: okrs.CycleReport
    intent: dict[str, str]  # objective key -> on pace / behind
    stale: set[str]  # KR keys the plans leave without a check-in for two weeks or more
    title: str


def _sample_text() -> str:
    return resources.files("app.demo").joinpath("sample.yaml").read_text(encoding="utf-8")


def friday_of(window: CycleWindow, week: int) -> datetime:
    """The evening (UTC) of the Friday of the simulation's week ``week`` (0 = first week)."""
    first = window.start + timedelta(days=(7 - window.start.weekday()) % 7)
    return datetime.combine(first + timedelta(weeks=week, days=4), time(18, 0), UTC)


def _planned(kr: KeyResult, links: list[tuple[str, float]], week: int, last_week: int,
             window: CycleWindow) -> tuple[float, float]:
    """(score the KR's plan puts it at by week ``week``, score a straight line to the goal
    expects then as a share of the goal: 1 = the goal)."""
    plan = simulate.PLANS.get(kr.key)
    kind = KRType(kr.kr_type)
    frac = min(week / last_week, 1.0)
    if kind == KRType.ISSUES:
        closed = {url for w, url in simulate.CLOSED_ISSUES if w <= week}
        total = sum(w for _, w in links)
        return (sum(w for url, w in links if url in closed) / total if total else 0.0), frac
    if plan is None:
        return 0.0, frac
    if kind == KRType.MILESTONE:
        done = plan.done_week is not None and plan.done_week <= week
        due = kr.due_date or window.end
        overdue = friday_of(window, week).date() > due
        return float(done), float(done or overdue)
    if kind in (KRType.ABOVE, KRType.BELOW):
        target = kr.target_value or 0.0
        return float(plan.final >= target if kind == KRType.ABOVE else plan.final <= target), frac
    if plan.stop_after is not None:
        frac_done = min(frac, plan.stop_after / last_week)
        return plan.final * simulate.shape(plan.shape, frac_done), frac
    return plan.final * simulate.shape(plan.shape, frac), frac


def intended(session: Session, workspace_id: int, window: CycleWindow, week: int,
             settings: Settings) -> dict[str, str]:
    """Objective key -> its intended course by week ``week`` (see the module docstring)."""
    last_week = (window.end - friday_of(window, 0).date() + timedelta(days=4)).days // 7
    links: dict[int, list[tuple[str, float]]] = {}
    for kr_id, url, weight in session.execute(select(
            IssueLink.kr_id, IssueLink.url, IssueLink.weight)
            .where(IssueLink.workspace_id == workspace_id)):
        links.setdefault(kr_id, []).append((url, weight))
    objectives = list(session.scalars(select(Objective).where(
        Objective.workspace_id == workspace_id)))
    aligned_to_kr: dict[int, list[str]] = {}
    children: dict[int, list[str]] = {}
    kr_objective = {kr.id: kr.objective_id for o in objectives for kr in o.key_results}
    for o in objectives:
        if o.aligned_kr_id is not None:
            aligned_to_kr.setdefault(o.aligned_kr_id, []).append(o.key)
            children.setdefault(kr_objective[o.aligned_kr_id], []).append(o.key)
        elif o.aligned_objective_id is not None:
            children.setdefault(o.aligned_objective_id, []).append(o.key)
    s = settings.scoring
    goals = {o.key: scoring.goal(Commitment(o.commitment), s.aspirational_target)
             for o in objectives}
    planned = {kr.key: _planned(kr, links.get(kr.id, []), week, last_week, window)
               for o in objectives for kr in o.key_results}

    def forest(part: int) -> list[ObjectiveFacts]:
        return [ObjectiveFacts(
            id=o.key, rollup_mode=RollupMode(o.rollup_mode),
            children=tuple(children.get(o.id, ())),
            key_results=tuple(
                KRFacts(id=kr.key, kr_type=KRType.CHILDREN, weight=kr.weight,
                        children=tuple(aligned_to_kr.get(kr.id, ())))
                if kr.kr_type == KRType.CHILDREN.value else
                KRFacts(id=kr.key, kr_type=KRType.MANUAL, weight=kr.weight,
                        manual_score=planned[kr.key][part]
                        * (goals[o.key] if part and kr.kr_type != "milestone" else 1.0))
                for kr in o.key_results))
            for o in objectives]

    plan, line = scoring.rollup(forest(0)), scoring.rollup(forest(1))
    return {o.key: BEHIND if plan.objectives[o.key] < line.objectives[o.key] - s.yellow_gap
            else ON_PACE for o in objectives}


def snapshot(week: int, settings: Settings | None = None) -> Snapshot:
    """The demo quarter replayed up to the Friday of ``week`` in a scratch SQLite database."""
    with tempfile.TemporaryDirectory(prefix="okr-lights-") as tmp:
        path = Path(tmp) / "lights.db"
        settings = settings or Settings(DATABASE_URL=f"sqlite:///{path}")
        settings = settings.model_copy(update={"database_url": f"sqlite:///{path}"})
        container = bootstrap(settings, migrate=True)
        try:
            with unit_of_work(container.session_factory) as session:
                return _replay(session, week, settings)
        finally:
            container.close()


def _replay(session: Session, week: int, settings: Settings) -> Snapshot:
    ws = workspaces.default_workspace(session=session, now=datetime(2026, 1, 5, tzinfo=UTC))
    imports.import_text(session=session, workspace=ws, text=_sample_text(),
                        now=datetime(2026, 1, 5, tzinfo=UTC))
    ws = session.scalars(select(Workspace).where(Workspace.id == ws.id)).one()
    cycle = session.scalars(select(Cycle).where(Cycle.workspace_id == ws.id)).one()
    window = cycles.window(cycle)
    now = friday_of(window, week)
    simulate.simulate(session=session, workspace=ws, window=window, now=now)
    today = cycles.org_today(ws, now)
    report = okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle, today=today,
                               now=now, settings=settings.scoring)
    stale = {key for key, plan in simulate.PLANS.items()
             if plan.stop_after is not None and week >= plan.stop_after + 2}
    return Snapshot(week=week, now=now, report=report,
                    intent=intended(session, ws.id, window, week, settings), stale=stale,
                    title=f"{ws.name} in week {week} ({today:%a %d %b})")


@dataclass(frozen=True, slots=True)
class Agreement:
    week: int
    agreeing: list[str]
    disagreeing: list[str]  # "key: light vs intent"
    stale_shown: int
    stale_intended: int
    false_outdated: list[str]

    @property
    def share(self) -> float:
        total = len(self.agreeing) + len(self.disagreeing)
        return len(self.agreeing) / total if total else 1.0


def agreement(snap: Snapshot) -> Agreement:
    agreeing: list[str] = []
    disagreeing: list[str] = []
    for o in snap.report.objectives:
        light = ON_PACE if o.status == TrafficLight.GREEN else BEHIND
        want = snap.intent.get(o.key, ON_PACE)
        (agreeing if light == want else disagreeing).append(
            o.key if light == want else f"{o.key}: {o.light.value} vs intended {want}")
    krs = [kr for o in snap.report.objectives for kr in o.key_results]
    shown = sum(1 for kr in krs if kr.key in snap.stale and kr.stale)
    false_outdated = [kr.key for kr in krs if kr.stale and kr.key not in snap.stale]
    return Agreement(snap.week, agreeing, disagreeing, shown, len(snap.stale), false_outdated)


def show_week_tree(ctx: DemoContext) -> None:
    """``okr demo``: the tree as it stood in week 7, with how far the lights agree."""
    snap = snapshot(7, ctx.settings)
    result = agreement(snap)
    ctx.out("")
    ctx.out(ctx.style.paint("Mid-quarter: the same organisation replayed to week 7", bold=True))
    ctx.out(render_tree(snap.report, style=ctx.style, now=snap.now, title=snap.title))
    ctx.out(ctx.style.paint(
        f"{len(result.agreeing)} of {len(result.agreeing) + len(result.disagreeing)} objective "
        "lights match how each objective was planned to go (on pace or behind).", dim=True))
