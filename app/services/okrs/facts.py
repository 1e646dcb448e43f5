"""The read model's facts: a cycle's rows as the plain values scoring takes, and its alignment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain import (
    Commitment,
    IssueFact,
    KRFacts,
    KRState,
    KRType,
    ObjectiveFacts,
    PhasedTarget,
    RollupMode,
    TrafficLight,
    Visibility,
)
from app.services.okrs.load import CycleRows, KRRow, ObjRow

# Enum lookups by stored value: calling the enum class costs ~3 us, too much per KR at 100k.
KR_TYPE = {m.value: m for m in KRType}
LIGHT = {m.value: m for m in TrafficLight}
KR_STATE = {m.value: m for m in KRState}
COMMITMENT = {m.value: m for m in Commitment}
ROLLUP = {m.value: m for m in RollupMode}
VISIBILITY = {m.value: m for m in Visibility}


def phased_targets(stored: list[dict[str, Any]] | None) -> tuple[PhasedTarget, ...]:
    """``key_results.targets`` as value objects, in date order (entries that cannot be read
    are left out: imports and edits validate them before they are stored)."""
    out = []
    for item in stored or ():
        try:
            out.append(PhasedTarget(date.fromisoformat(str(item["on"])), float(item["value"])))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(sorted(out, key=lambda t: t.on))


@dataclass(frozen=True, slots=True)
class Alignment:
    """Keys by row id, and who is aligned under whom (by key), within one cycle."""

    obj_key: dict[int, str]
    kr_key: dict[int, str]
    kr_obj: dict[int, int]  # KR id -> its objective's id
    children_of_obj: dict[int, list[str]]
    children_of_kr: dict[int, list[str]]


def alignment(objs: list[ObjRow], krs: list[KRRow]) -> Alignment:
    obj_key = {o.id: o.key for o in objs}
    kr_key = {k.id: k.key for k in krs}
    kr_obj = {k.id: k.objective_id for k in krs}
    children_of_obj: dict[int, list[str]] = defaultdict(list)
    children_of_kr: dict[int, list[str]] = defaultdict(list)
    for o in objs:
        if o.aligned_kr_id is not None and o.aligned_kr_id in kr_key:
            children_of_kr[o.aligned_kr_id].append(o.key)
        elif o.aligned_objective_id is not None and o.aligned_objective_id in obj_key:
            children_of_obj[o.aligned_objective_id].append(o.key)
    # Objectives aligned to one of an objective's KRs are its children too.
    for kr_id, kids in children_of_kr.items():
        children_of_obj[kr_obj[kr_id]].extend(kids)
    return Alignment(obj_key=obj_key, kr_key=kr_key, kr_obj=kr_obj,
                     children_of_obj=children_of_obj, children_of_kr=children_of_kr)


def objective_facts(rows: CycleRows, links: Alignment) -> list[ObjectiveFacts]:
    """One ``ObjectiveFacts`` per objective, in row order, each with its KRs' facts."""
    issues, children_of_kr = rows.issues, links.children_of_kr
    kr_facts: dict[int, list[KRFacts]] = defaultdict(list)
    no_issues: tuple[IssueFact, ...] = ()
    for (kid, key, objective_id, _title, kr_type, start, target, current, manual, _unit,
         weight, _owner, declared, state, _at, due, targets, _position) in rows.key_results:
        # Positional, in KRFacts' field order (a keyword call costs twice as much, per KR):
        # id, kr_type, start, target, current, manual_score, weight, issues, children,
        # declared_status, state, due, targets.
        kr_facts[objective_id].append(KRFacts(
            key, KR_TYPE[kr_type], start, target, current, manual, weight,
            tuple(issues[kid]) if kid in issues else no_issues,
            tuple(children_of_kr[kid]) if kid in children_of_kr else (),
            LIGHT[declared] if declared else None, KR_STATE[state], due,
            phased_targets(targets) if targets else (),
        ))
    return [
        ObjectiveFacts(
            id=o.key, key_results=tuple(kr_facts.get(o.id, ())),
            children=tuple(links.children_of_obj.get(o.id, ())),
            rollup_mode=ROLLUP[o.rollup_mode],
            commitment=COMMITMENT.get(o.commitment, Commitment.COMMITTED),
        )
        for o in rows.objectives
    ]
