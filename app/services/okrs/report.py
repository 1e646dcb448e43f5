"""The read model: a cycle's objectives and key results, scored, with status and trend.

One place builds it, and everything that shows OKRs uses it: the CLI tree, exports, Slack
views, digests and reports. :func:`cycle_report` runs its four steps: load the cycle's rows
(:mod:`~app.services.okrs.load`, a handful of set-based queries), turn them into facts
(:mod:`~app.services.okrs.facts`), score them (:mod:`~app.services.okrs.score`, pure) and
build the views people see (:mod:`~app.services.okrs.views`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypedDict, Unpack

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CycleView, KRView, ObjectiveFacts, ObjectiveView, ScoreCard
from app.models import Cycle, KeyResult, Objective
from app.services.gcpause import paused_gc
from app.services.okrs import cycles, facts, load, score, views
from app.services.okrs.views import STALE_AFTER, tree_order

__all__ = [
    "STALE_AFTER",
    "CycleReport",
    "ReadArgs",
    "cycle_report",
    "kr_by_key",
    "objective_by_key",
    "tree_order",
]


class ReadArgs(TypedDict):
    """What every scored read of a cycle takes: :func:`cycle_report` and the reads on top
    of it (retrospective, end-of-cycle report, score snapshots). ``today`` is the
    organisation's local date (for pace); ``now`` dates staleness."""

    session: Session
    workspace_id: int
    cycle: Cycle
    today: date
    now: datetime
    settings: ScoringSettings


@dataclass(frozen=True, slots=True)
class CycleReport:
    cycle: CycleView
    objectives: list[ObjectiveView]
    scores: ScoreCard
    team_scores: dict[str, float] = field(default_factory=dict)
    company_score: float | None = None

    def objective(self, key: str) -> ObjectiveView | None:
        return next((o for o in self.objectives if o.key == key), None)

    def key_result(self, key: str) -> KRView | None:
        for o in self.objectives:
            for kr in o.key_results:
                if kr.key == key:
                    return kr
        return None


def cycle_report(
    *, include_private: bool = True, include_drafts: bool = True, **read: Unpack[ReadArgs],
) -> CycleReport:
    """Score a whole cycle: load -> facts -> score -> views (the collector paused: see
    :mod:`~app.services.gcpause`)."""
    with paused_gc():
        return _cycle_report(include_private, include_drafts, read)


def _cycle_report(include_private: bool, include_drafts: bool, read: ReadArgs) -> CycleReport:
    cycle, session, workspace_id = read["cycle"], read["session"], read["workspace_id"]
    rows = load.cycle_rows(session, workspace_id, cycle)
    # The database works out the latest check-ins while the cycle is scored (pure work only
    # in this block: a statement here would wait behind theirs).
    with load.latest_checkins(session, workspace_id, cycle) as latest:
        done = scored(rows, cycle, read["today"], read["settings"])
        last = latest()
    return assembled(rows, done, last, cycle=cycle, today=read["today"], now=read["now"],
                     settings=read["settings"], include_private=include_private,
                     include_drafts=include_drafts)


@dataclass(frozen=True, slots=True)
class Scored:
    """A cycle's rows scored: alignment, facts, scores and pace (no views yet)."""

    links: facts.Alignment
    facts: list[ObjectiveFacts]
    card: ScoreCard
    pace: score.Pace


def scored(rows: load.CycleRows, cycle: Cycle, today: date,
           settings: ScoringSettings) -> Scored:
    """Score a cycle's rows (pure: no database)."""
    links = facts.alignment(rows.objectives, rows.key_results)
    objective_facts = facts.objective_facts(rows, links)
    card = score.score(objective_facts)
    pace = score.pace(objective_facts, card, cycles.window(cycle), today, settings)
    return Scored(links, objective_facts, card, pace)


def assembled(rows: load.CycleRows, done: Scored, last: dict[int, load.LastCheckins], *,
              cycle: Cycle, today: date, now: datetime, settings: ScoringSettings,
              include_private: bool = True, include_drafts: bool = True) -> CycleReport:
    """The report of scored rows, with each KR's latest check-ins (``last``, by KR id)."""
    krs = views.kr_views(rows, done.links, done.card, last, pace=done.pace, settings=settings,
                         cycle=cycle, today=today, now=now)
    shown = views.objective_views(rows, done.links, done.card, krs, pace=done.pace,
                                  facts={o.id: o for o in done.facts}, settings=settings,
                                  cycle=cycle, today=today, include_private=include_private,
                                  include_drafts=include_drafts)
    return CycleReport(
        cycle=score.cycle_view(cycle, today), objectives=tree_order(shown), scores=done.card,
        team_scores=score.team_scores(shown), company_score=score.company_score(shown),
    )


def objective_by_key(*, session: Session, workspace_id: int, key: str) -> Objective | None:
    return session.scalars(
        select(Objective).where(Objective.workspace_id == workspace_id, Objective.key == key)
    ).first()


def kr_by_key(*, session: Session, workspace_id: int, key: str) -> KeyResult | None:
    return session.scalars(
        select(KeyResult).where(KeyResult.workspace_id == workspace_id, KeyResult.key == key)
    ).first()
