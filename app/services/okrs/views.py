"""The read model's views: scored rows as people see them (status, trend, staleness, mismatch).

Lights (the rules are in :mod:`scoring.pace`): a KR's status is the owner's declared light,
else the pace suggestion; an objective's follows ``OKR_OBJECTIVE_STATUS``. After the cycle's
last day both carry the grade of their latest score instead, and the status is that grade's
light. A KR owed check-ins is ``pending`` before its first one and ``stale`` (shown
``outdated``) once two of its owner's cadences pass without one.

The loops here run once per KR (100,000 in the benchmark): invariants are hoisted out of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import scoring
from app.config import ScoringSettings
from app.domain import (
    KRState,
    KRType,
    KRView,
    ObjectiveFacts,
    ObjectiveStatusRule,
    ObjectiveView,
    ScoreCard,
    TrafficLight,
    Visibility,
)
from app.models import Cycle
from app.services.okrs.facts import (
    COMMITMENT,
    KR_STATE,
    KR_TYPE,
    LIGHT,
    ROLLUP,
    VISIBILITY,
    Alignment,
    phased_targets,
)
from app.services.okrs.load import CycleRows, LastCheckins, ObjRow
from app.services.okrs.score import Pace

# A KR with no check-in for this long is stale (two weekly cadences); owners on another
# cadence get two of theirs.
STALE_AFTER = timedelta(days=14)
_SELF_MOVING = (KRType.ISSUES.value, KRType.CHILDREN.value)


def kr_views(
    rows: CycleRows, links: Alignment, card: ScoreCard, last: dict[int, LastCheckins], *,
    pace: Pace, settings: ScoringSettings, cycle: Cycle, today: date, now: datetime,
) -> dict[int, list[KRView]]:
    """Each objective's KR views (by objective id), in row order; ``last``: each KR's latest
    check-ins, by KR id."""
    out: dict[int, list[KRView]] = defaultdict(list)
    people, obj_key, periods = rows.people, links.obj_key, rows.cadence_days
    active = KRState.ACTIVE.value
    ended = today > cycle.end_date
    # Staleness is measured up to the cycle's last day: nobody owes a check-in after it.
    ref = now - (today - cycle.end_date) if ended else now
    elapsed = (min(today, cycle.end_date) - cycle.start_date).days
    no_checkins = LastCheckins()
    after: dict[int, timedelta] = {}  # stale_days -> timedelta, built once each
    scores, progress = card.key_results, card.progress
    kr_expected, kr_suggested = pace.kr_expected, pace.kr_suggested
    green, gap = TrafficLight.GREEN, settings.mismatch_gap
    mismatch_of = scoring.status_mismatch
    # Rows unpacked (one step) rather than read field by field: a named tuple's attribute
    # costs about as much as a dict lookup, twenty times per KR.
    for (kid, key, objective_id, title, kr_type, start, target, current, _manual, unit,
         weight, owner_id, declared_value, state, at, due, targets, _position) \
            in rows.key_results:
        score = scores.get(key, 0.0)
        suggested = kr_suggested.get(key, green)
        expected = kr_expected.get(key, 0.0)
        declared = LIGHT[declared_value] if declared_value else None
        owner = people.get(owner_id) if owner_id else None
        lc = last.get(kid, no_checkins)
        # Issues and children KRs move by themselves: nobody owes them a check-in.
        owed = state == active and kr_type not in _SELF_MOVING
        stale_days = 2 * periods.get(owner_id, 7) if owner_id else STALE_AFTER.days
        stale = owed and (
            (at is None and elapsed >= stale_days)
            or (at is not None and ref - at
                >= (after.get(stale_days) or after.setdefault(stale_days,
                                                              timedelta(days=stale_days))))
        )
        grade = scoring.grade(score, settings) if ended else None
        # Positional, in KRView's field order: a 28-keyword call costs three times as much,
        # once per KR. tests/services/okrs/test_views_fields.py checks the order.
        out[objective_id].append(KRView(
            key, title, KR_TYPE[kr_type], obj_key[objective_id],  # key .. objective_key
            owner[0] if owner else None, owner[1] if owner else None,  # owner_slack_id, _name
            start, target, current, unit,  # start .. unit
            weight, score, progress.get(key, score),  # weight, score, progress
            grade.light if grade else declared or suggested,  # status
            suggested, declared, lc.previous_score,  # suggested_, declared_status, previous
            KR_STATE[state], at, lc.note, lc.blockers,  # state .. last_blockers
            mismatch_of(declared, score, expected, gap=gap)
            if declared and not ended else None,  # mismatch
            stale, expected, owed and at is None and not ended,  # stale, expected, pending
            grade, due,  # grade, due
            phased_targets(targets) if targets else (),  # targets
        ))
    return out


def objective_views(
    rows: CycleRows, links: Alignment, card: ScoreCard, krs: dict[int, list[KRView]], *,
    pace: Pace, facts: dict[str, ObjectiveFacts], settings: ScoringSettings, cycle: Cycle,
    today: date, include_private: bool, include_drafts: bool,
) -> list[ObjectiveView]:
    """The objectives shown (in row order), each with its KR views."""
    people, teams = rows.people, rows.teams
    obj_key, kr_key, kr_obj = links.obj_key, links.kr_key, links.kr_obj
    depth = _depths(rows.objectives, kr_obj)
    ended = today > cycle.end_date
    name, scores, expectations = cycle.name, card.objectives, pace.objective_expected
    private = Visibility.PRIVATE.value
    views: list[ObjectiveView] = []
    for o in rows.objectives:
        if not include_private and o.visibility == private:
            continue
        if not include_drafts and o.is_draft:
            continue
        key = o.key
        krv = tuple(krs[o.id]) if o.id in krs else ()
        score = scores.get(key, 0.0)
        owner = people.get(o.owner_id) if o.owner_id else None
        team = teams.get(o.team_id) if o.team_id else None
        expected = expectations.get(key, 0.0)
        grade = scoring.grade(score, settings) if ended else None
        status = grade.light if grade else _objective_status(
            facts.get(key), krv, score, expected, settings)
        # Positional, in ObjectiveView's field order (see kr_views);
        # tests/services/okrs/test_views_fields.py checks it.
        views.append(ObjectiveView(
            key, o.title, name,  # key, title, cycle
            team[0] if team else None, team[1] if team else None,  # team_key, team_name
            owner[0] if owner else None, owner[1] if owner else None,  # owner_slack_id, _name
            score, status, VISIBILITY[o.visibility], COMMITMENT[o.commitment],
            krv,  # key_results
            obj_key.get(o.aligned_objective_id) if o.aligned_objective_id
            else (obj_key.get(kr_obj[o.aligned_kr_id]) if o.aligned_kr_id in kr_obj
                  else None),  # aligned_to
            kr_key.get(o.aligned_kr_id) if o.aligned_kr_id else None,  # aligned_to_kr
            depth.get(o.id, 0), o.is_development, o.is_draft,  # depth .. is_draft
            ROLLUP[o.rollup_mode], expected, grade,  # rollup_mode, expected, grade
        ))
    return views


def _objective_status(objective: ObjectiveFacts | None, krv: tuple[KRView, ...], score: float,
                      expected: float, settings: ScoringSettings) -> TrafficLight:
    """``weighted``: the suggestion from the weighted score against the weighted expected
    progress, capped at yellow by a declared red. ``worst``: the worst light of the active
    KRs (with none active, the suggestion)."""
    # Only ``worst`` reads the KRs' lights.
    active = [kv.status for kv in krv if kv.state == KRState.ACTIVE] \
        if settings.objective_status == ObjectiveStatusRule.WORST else ()
    return scoring.objective_light(
        objective or ObjectiveFacts(id=""), score, expected, active,
        rule=settings.objective_status, yellow_gap=settings.yellow_gap, red_gap=settings.red_gap)


def _depths(objs: Iterable[ObjRow], kr_obj: dict[int, int]) -> dict[int, int]:
    """Alignment depth of each objective (0 at the top); loops stop where they close."""
    parent: dict[int, int | None] = {}
    for o in objs:
        if o.aligned_objective_id is not None:
            parent[o.id] = o.aligned_objective_id
        elif o.aligned_kr_id is not None:
            parent[o.id] = kr_obj.get(o.aligned_kr_id)
        else:
            parent[o.id] = None
    depth: dict[int, int] = {}
    for oid in parent:
        seen = {oid}
        d = 0
        cur = parent.get(oid)
        while cur is not None and cur in parent and cur not in seen:
            seen.add(cur)
            d += 1
            cur = parent.get(cur)
        depth[oid] = d
    return depth


def tree_order(views: list[ObjectiveView]) -> list[ObjectiveView]:
    """Depth-first: each objective followed by the objectives aligned to it."""
    by_parent: dict[str | None, list[ObjectiveView]] = defaultdict(list)
    keys = {v.key for v in views}
    for v in views:
        parent = v.aligned_to if v.aligned_to in keys and v.aligned_to != v.key else None
        by_parent[parent].append(v)
    out: list[ObjectiveView] = []
    seen: set[str] = set()
    stack = list(reversed(by_parent.get(None, [])))
    while stack:
        v = stack.pop()
        if v.key in seen:
            continue
        seen.add(v.key)
        out.append(v)
        stack.extend(reversed(by_parent.get(v.key, [])))
    # Anything left sits in an alignment loop: list it rather than lose it.
    out.extend(v for v in views if v.key not in seen)
    return out
