"""Everything a cycle report shows, gathered once: scores, history, retrospective, reflections.

The renderers in ``app.reports`` (HTML, Markdown, CSV) only format this. Private objectives
are left out unless ``include_private`` (channel reports never ask for them).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Unpack
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.domain import (
    CycleView,
    Grade,
    KRFacts,
    KRType,
    KRView,
    ObjectiveFacts,
    ObjectiveView,
)
from app.models import Checkin, Cycle, KeyResult, Objective, Workspace
from app.services.okrs import adjustments
from app.services.okrs import report as okrs
from app.services.review import ledger, reflections, retro
from app.services.review.ledger import KRScores
from app.services.review.reflections import ReflectionView
from app.services.review.retro import Retro

Point = tuple[date, float]


@dataclass(frozen=True, slots=True)
class KRRow:
    view: KRView
    scores: KRScores | None
    used: float
    grade: Grade

    @property
    def final(self) -> float | None:
        return self.scores.final if self.scores else None

    @property
    def self_score(self) -> float | None:
        return self.scores.self_score if self.scores else None


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    view: ObjectiveView
    krs: tuple[KRRow, ...]
    used: float
    grade: Grade
    provisional: bool
    series: tuple[Point, ...]

    @property
    def self_score(self) -> float | None:
        """Weighted mean of the KRs' self scores, once every KR has one."""
        pairs = [(k.self_score, k.view.weight) for k in self.krs]
        total = sum(w for _, w in pairs)
        if not pairs or total <= 0 or any(s is None for s, _ in pairs):
            return None
        return sum((s or 0.0) * w for s, w in pairs) / total


@dataclass(frozen=True, slots=True)
class Report:
    workspace_name: str
    cycle: CycleView
    as_of: date
    generated_at: datetime
    include_private: bool
    objectives: tuple[ObjectiveRow, ...]
    retro: Retro
    reflections: tuple[ReflectionView, ...]
    # Grade bands (achieved, strong, partial) and the calibration sweet spot (low, high).
    grade_bands: tuple[float, float, float] = (1.0, 0.7, 0.4)
    sweet_spot: tuple[float, float] = (0.6, 0.7)

    @property
    def kr_count(self) -> int:
        return sum(len(o.krs) for o in self.objectives)


def sample_dates(start: date, end: date, as_of: date) -> list[date]:
    """The cycle's start, each week's last day, and the last day shown (``as_of`` or end)."""
    last = min(max(as_of, start), end)
    days = [start]
    d = start + timedelta(days=6)
    while d < last:
        days.append(d)
        d += timedelta(days=7)
    if days[-1] != last:
        days.append(last)
    return days


def score_history(
    *, session: Session, workspace_id: int, cycle: Cycle, objectives: Sequence[ObjectiveView],
    tz: str, as_of: date,
) -> dict[str, list[Point]]:
    """Each objective's score at the end of each week, replaying its KRs' check-in scores.

    A KR counts as 0 before its first scored check-in; the last point uses today's live
    scores, so each line ends where the report's tables say it stands.
    """
    zone = ZoneInfo(tz)
    rows = session.execute(
        select(KeyResult.key, Checkin.at, Checkin.score)
        .join(KeyResult, KeyResult.id == Checkin.kr_id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(Checkin.workspace_id == workspace_id, Objective.cycle_id == cycle.id,
               Checkin.score.isnot(None))
        .order_by(Checkin.at, Checkin.id)
    ).all()
    times: dict[str, list[datetime]] = defaultdict(list)
    values: dict[str, list[float]] = defaultdict(list)
    for key, at, score in rows:
        times[key].append(at)
        values[key].append(float(score))
    days = sample_dates(cycle.start_date, cycle.end_date, as_of)
    replay = _Replay(objectives)
    out: dict[str, list[Point]] = {o.key: [] for o in objectives}
    for i, day in enumerate(days):
        if i == len(days) - 1 and day >= min(as_of, cycle.end_date):
            scores = {o.key: o.score for o in objectives}
        else:
            cutoff = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
            scores = replay.at(times, values, cutoff)
        for o in objectives:
            out[o.key].append((day, scores.get(o.key, 0.0)))
    return out


class _Replay:
    """Objective scores from given KR scores, children before parents, built once per report.

    Each KR scores its latest check-in score at the cutoff; ``children`` KRs and objectives
    in the ``children``/``both`` modes roll up their aligned objectives as in
    :func:`scoring.rollup` (inside an alignment loop, from what is already known).
    """

    def __init__(self, objectives: Sequence[ObjectiveView]) -> None:
        keys = {o.key for o in objectives}
        self.children: dict[str, list[str]] = defaultdict(list)
        self.kr_children: dict[str, list[str]] = defaultdict(list)
        for o in objectives:
            if o.aligned_to_kr:
                self.kr_children[o.aligned_to_kr].append(o.key)
            if o.aligned_to in keys and o.aligned_to != o.key:
                self.children[str(o.aligned_to)].append(o.key)
        self.facts = {o.key: ObjectiveFacts(
            id=o.key, rollup_mode=o.rollup_mode,
            key_results=tuple(KRFacts(id=kr.key, kr_type=KRType.MANUAL, weight=kr.weight,
                                      state=kr.state) for kr in o.key_results))
            for o in objectives}
        self.rolled = {kr.key for o in objectives for kr in o.key_results
                       if kr.kr_type == KRType.CHILDREN}
        # Depth-first tree order reversed: every objective after the ones aligned to it.
        self.order = [o.key for o in reversed(okrs.tree_order(list(objectives)))]

    def at(self, times: dict[str, list[datetime]], values: dict[str, list[float]],
           cutoff: datetime) -> dict[str, float]:
        kr_scores: dict[str, float] = {}
        for key in times:
            n = bisect_right(times[key], cutoff)
            if n:
                kr_scores[key] = values[key][n - 1]
        out: dict[str, float] = {}
        for key in self.order:
            facts = self.facts[key]
            for kr in facts.key_results:
                if kr.id in self.rolled:
                    kr_scores[kr.id] = scoring.mean_score(
                        out[c] for c in self.kr_children.get(kr.id, ()) if c in out) or 0.0
                elif kr.id not in kr_scores:
                    kr_scores[kr.id] = 0.0
            out[key] = scoring.objective_score(
                facts, kr_scores, [(out[c], 1.0) for c in self.children.get(key, ()) if c in out])
        return out


def build(*, include_private: bool = False, **read: Unpack[okrs.ReadArgs]) -> Report:
    """Everything the end-of-cycle report shows, for ``read["cycle"]`` as of ``today``."""
    session, workspace_id, cycle = read["session"], read["workspace_id"], read["cycle"]
    today, settings = read["today"], read["settings"]
    ws = session.get(Workspace, workspace_id)
    assert ws is not None
    live = okrs.cycle_report(**read, include_private=include_private, include_drafts=False)
    scores = ledger.scores(session=session, workspace_id=workspace_id, cycle=cycle)
    refs = reflections.latest(session=session, workspace_id=workspace_id, cycle=cycle,
                              include_private=include_private)
    history = score_history(session=session, workspace_id=workspace_id, cycle=cycle,
                            objectives=live.objectives, tz=ws.timezone or "UTC", as_of=today)
    rows = []
    for o in live.objectives:
        krs = tuple(
            KRRow(view=kr, scores=scores.get(kr.key), used=(u := retro.used_score(
                kr, scores.get(kr.key))), grade=scoring.grade(u, settings))
            for kr in o.key_results
        )
        used = retro.objective_final(o, scores) if krs else o.score
        rows.append(ObjectiveRow(
            view=o, krs=krs, used=used, grade=scoring.grade(used, settings),
            provisional=any(k.final is None for k in krs), series=tuple(history[o.key]),
        ))
    kr_keys = {kr.key for o in live.objectives for kr in o.key_results}
    summary = retro.assemble(
        cycle=cycle, scope=None, objectives=live.objectives, scores=scores, refs=refs,
        revisions=adjustments.revisions(session=session, workspace_id=workspace_id,
                                        cycle=cycle, kr_keys=kr_keys),
        previous=retro.previous_numbers(**read, include_private=include_private),
        settings=settings,
    )
    return Report(
        workspace_name=ws.name, cycle=live.cycle, as_of=min(today, cycle.end_date),
        generated_at=read["now"], include_private=include_private, objectives=tuple(rows),
        retro=summary, reflections=tuple(refs),
        grade_bands=(settings.grade_achieved, settings.grade_strong, settings.grade_partial),
        sweet_spot=(settings.sweet_spot_low, settings.sweet_spot_high),
    )
