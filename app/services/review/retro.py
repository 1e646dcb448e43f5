"""The retrospective of a cycle: how it went, in numbers and in people's words.

Achievement rate, grade distribution and calibration use each KR's final score, falling back
to the self score and then the computed score while the review is still going (those KRs are
counted as provisional). Private objectives are left out unless asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Unpack

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.config import ScoringSettings
from app.domain import Grade, KRState, KRView, ObjectiveView
from app.models import Cycle, Person, Team, TeamMember
from app.services.okrs import adjustments
from app.services.okrs import report as okrs
from app.services.okrs.adjustments import RevisionView
from app.services.review import ledger, reflections
from app.services.review.ledger import KRScores
from app.services.review.reflections import ReflectionView

MAX_GAPS = 5
GRADE_ORDER = (Grade.ACHIEVED, Grade.STRONG, Grade.PARTIAL, Grade.MISS)


@dataclass(frozen=True, slots=True)
class Numbers:
    kr_count: int
    final_count: int
    average: float | None
    achievement_rate: float | None
    grades: dict[Grade, int]
    objective_average: float | None

    @property
    def provisional(self) -> int:
        return self.kr_count - self.final_count


@dataclass(frozen=True, slots=True)
class Gap:
    kr_key: str
    kr_title: str
    owner_name: str | None
    self_score: float
    final: float
    reason: str | None

    @property
    def delta(self) -> float:
        return self.final - self.self_score


@dataclass(frozen=True, slots=True)
class CarryItem:
    person_name: str
    objective_key: str | None
    objective_title: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Previous:
    name: str
    numbers: Numbers


@dataclass(frozen=True, slots=True)
class Retro:
    cycle_name: str
    start: date
    end: date
    scope: str | None
    numbers: Numbers
    calibration: scoring.Calibration
    gaps: list[Gap] = field(default_factory=list)
    carry_forward: list[CarryItem] = field(default_factory=list)
    adjustments: list[RevisionView] = field(default_factory=list)
    previous: Previous | None = None
    # Grade bands used (achieved, strong, partial): the achievement rate counts "strong" up.
    bands: tuple[float, float, float] = (1.0, 0.7, 0.4)

    def delta(self, name: str) -> float | None:
        """This cycle's figure minus the previous cycle's, for ``average`` etc."""
        if self.previous is None:
            return None
        now_v = getattr(self.numbers, name)
        then_v = getattr(self.previous.numbers, name)
        return None if now_v is None or then_v is None else now_v - then_v


def used_score(kr: KRView, have: KRScores | None) -> float:
    """The score a KR is judged on: final, else self, else the computed score as it is now
    (the snapshots taken when the review opened are history, and a mid-review target change
    moves the computed score)."""
    for value in (have.final, have.self_score) if have is not None else ():
        if value is not None:
            return value
    return kr.score


def objective_final(objective: ObjectiveView, scores: dict[str, KRScores]) -> float:
    """An objective's score from its KRs' used scores, weighted like the live rollup."""
    # Paused KRs count only when all are paused, as in scoring.rollup.
    counted = [kr for kr in objective.key_results if kr.state != KRState.PAUSED] \
        or list(objective.key_results)
    pairs = [(used_score(kr, scores.get(kr.key)), kr.weight) for kr in counted]
    total = sum(w for _, w in pairs)
    return sum(s * w for s, w in pairs) / total if total > 0 else objective.score


def numbers(objectives: Sequence[ObjectiveView], scores: dict[str, KRScores],
            settings: ScoringSettings) -> Numbers:
    used: list[float] = []
    finals = 0
    grades = dict.fromkeys(GRADE_ORDER, 0)
    for objective in objectives:
        for kr in objective.key_results:
            value = used_score(kr, scores.get(kr.key))
            used.append(value)
            have = scores.get(kr.key)
            finals += 1 if have is not None and have.final is not None else 0
            grades[scoring.grade(value, settings)] += 1
    strong = grades[Grade.ACHIEVED] + grades[Grade.STRONG]
    objs = [objective_final(o, scores) for o in objectives if o.key_results]
    return Numbers(
        kr_count=len(used), final_count=finals,
        average=sum(used) / len(used) if used else None,
        achievement_rate=strong / len(used) if used else None, grades=grades,
        objective_average=sum(objs) / len(objs) if objs else None,
    )


def gaps(objectives: Sequence[ObjectiveView], scores: dict[str, KRScores],
         limit: int = MAX_GAPS) -> list[Gap]:
    """The KRs whose final score is furthest from the self score (differences only)."""
    found = []
    for objective in objectives:
        for kr in objective.key_results:
            have = scores.get(kr.key)
            if have is None or have.gap is None or abs(have.gap) < 0.05:
                continue
            assert have.self_score is not None and have.final is not None
            found.append(Gap(kr_key=kr.key, kr_title=kr.title, owner_name=kr.owner_name,
                             self_score=have.self_score, final=have.final, reason=have.reason))
    found.sort(key=lambda g: (-abs(g.delta), g.kr_key))
    return found[:limit]


def carry_items(refs: Sequence[ReflectionView]) -> list[CarryItem]:
    return [CarryItem(person_name=r.person_name, objective_key=r.objective_key,
                      objective_title=r.objective_title, text=r.carry_forward)
            for r in refs if r.carry_forward]


def previous_cycle(*, session: Session, workspace_id: int, cycle: Cycle) -> Cycle | None:
    """The cycle that ended last before this one started."""
    return session.scalars(
        select(Cycle).where(Cycle.workspace_id == workspace_id,
                            Cycle.end_date < cycle.start_date)
        .order_by(Cycle.end_date.desc(), Cycle.id.desc()).limit(1)
    ).first()


def scoped(objectives: Sequence[ObjectiveView], team_key: str | None) -> list[ObjectiveView]:
    return [o for o in objectives if team_key is None or o.team_key == team_key]


def build(
    *, include_private: bool = False, team_key: str | None = None, scope_name: str | None = None,
    **read: Unpack[okrs.ReadArgs],
) -> Retro:
    """The retrospective of a cycle, for the whole organisation or one team."""
    session, workspace_id, cycle = read["session"], read["workspace_id"], read["cycle"]
    report = okrs.cycle_report(**read, include_private=include_private, include_drafts=False)
    objectives = scoped(report.objectives, team_key)
    scores = ledger.scores(session=session, workspace_id=workspace_id, cycle=cycle)
    refs = reflections.latest(session=session, workspace_id=workspace_id, cycle=cycle,
                              include_private=include_private)
    keys = {o.key for o in objectives}
    members = _member_slack_ids(session, workspace_id, team_key)
    refs = [r for r in refs if _in_scope(r, keys, members)]
    kr_keys = {kr.key for o in objectives for kr in o.key_results}
    return assemble(
        cycle=cycle, scope=scope_name, objectives=objectives, scores=scores, refs=refs,
        revisions=adjustments.revisions(session=session, workspace_id=workspace_id,
                                        cycle=cycle, kr_keys=kr_keys),
        previous=previous_numbers(**read, include_private=include_private, team_key=team_key),
        settings=read["settings"],
    )


def assemble(
    *, cycle: Cycle, scope: str | None, objectives: Sequence[ObjectiveView],
    scores: dict[str, KRScores], refs: Sequence[ReflectionView],
    revisions: list[RevisionView], previous: Previous | None, settings: ScoringSettings,
) -> Retro:
    nums = numbers(objectives, scores, settings)
    used = [used_score(kr, scores.get(kr.key)) for o in objectives for kr in o.key_results]
    return Retro(
        cycle_name=cycle.name, start=cycle.start_date, end=cycle.end_date, scope=scope,
        numbers=nums, calibration=scoring.calibration(used, settings),
        gaps=gaps(objectives, scores), carry_forward=carry_items(refs),
        adjustments=revisions, previous=previous,
        bands=(settings.grade_achieved, settings.grade_strong, settings.grade_partial),
    )


def previous_numbers(
    *, include_private: bool, team_key: str | None = None, **read: Unpack[okrs.ReadArgs],
) -> Previous | None:
    """The previous cycle's figures (same scope), for the comparison."""
    session, workspace_id = read["session"], read["workspace_id"]
    prev = previous_cycle(session=session, workspace_id=workspace_id, cycle=read["cycle"])
    if prev is None:
        return None
    before: okrs.ReadArgs = {**read, "cycle": prev}
    report = okrs.cycle_report(**before, include_private=include_private, include_drafts=False)
    objectives = scoped(report.objectives, team_key)
    if not objectives:
        return None
    scores = ledger.scores(session=session, workspace_id=workspace_id, cycle=prev)
    return Previous(name=prev.name, numbers=numbers(objectives, scores, read["settings"]))


def _in_scope(ref: ReflectionView, keys: set[str], members: set[str] | None) -> bool:
    """Reflections on an objective in scope; cycle-wide ones from the team's members."""
    if ref.objective_key is not None:
        return ref.objective_key in keys
    return members is None or ref.person_slack_id in members


def _member_slack_ids(session: Session, workspace_id: int, team_key: str | None) -> set[str] | None:
    if team_key is None:
        return None
    return set(session.scalars(
        select(Person.slack_id).join(TeamMember, TeamMember.person_id == Person.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.workspace_id == workspace_id, Team.key == team_key)
    ))
