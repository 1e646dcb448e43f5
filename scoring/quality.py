"""OKR quality lint: advice on how objectives and key results are written and aligned.

Lint only ever warns; nothing here blocks saving an OKR. Inputs are plain dataclasses so the
rules can run on an import file, a draft in a modal or what is stored, alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.domain import KRType, LintWarning
from scoring.thresholds import DEFAULT_THRESHOLDS, LintLimits


@dataclass(frozen=True, slots=True)
class LintKR:
    id: str
    title: str
    owner: str | None = None
    # Optional: milestone and children KRs are measurable without a number in the title.
    kr_type: KRType | None = None


@dataclass(frozen=True, slots=True)
class LintObjective:
    id: str
    title: str
    owner: str | None = None
    cycle: str | None = None
    # The parent objective's id; "objective-id/kr-id" (aligned to a KR) is read as the objective.
    aligned_to: str | None = None
    key_results: tuple[LintKR, ...] = ()


_NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|thousand|million|billion|dozen|half|double|twice|triple|"
    "percent"
)
_HAS_NUMBER = re.compile(rf"\d|[%‰½¼¾]|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_VAGUE_VERB = re.compile(
    r"\b(improv(?:e|es|ed|ing|ement|ements)|increas(?:e|es|ed|ing)|better|"
    r"optimi[sz](?:e|es|ed|ing|ation))\b",
    re.IGNORECASE,
)
_MEASURED_WITHOUT_NUMBER = (KRType.MILESTONE, KRType.CHILDREN)


def has_number(text: str) -> bool:
    """True when the text states a quantity: a digit, a percent sign or a number word."""
    return _HAS_NUMBER.search(text) is not None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _kr_warnings(objective: LintObjective, kr: LintKR) -> list[LintWarning]:
    where = f"KR {kr.id} (objective {objective.id})"
    out: list[LintWarning] = []
    if not has_number(kr.title):
        vague = _VAGUE_VERB.search(kr.title)
        if vague:
            out.append(LintWarning(
                "kr_vague_verb", kr.id,
                f"{where} says '{vague.group(1)}' without a number: say from what to what",
            ))
        elif kr.kr_type not in _MEASURED_WITHOUT_NUMBER:
            out.append(LintWarning(
                "kr_no_number", kr.id,
                f"{where} has no number: state how much, e.g. 'from 14 to 5 days'",
            ))
    if not (kr.owner and kr.owner.strip()):
        out.append(LintWarning("kr_no_owner", kr.id, f"{where} has no owner"))
    return out


def _parents(by_id: Mapping[str, LintObjective]) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for oid, objective in by_id.items():
        parent = objective.aligned_to or None
        if parent is not None and parent not in by_id and "/" in parent:
            parent = parent.split("/", 1)[0]
        parents[oid] = parent
    return parents


def _depths(
    by_id: Mapping[str, LintObjective],
) -> tuple[dict[str, int | None], list[list[str]]]:
    """Cascade depth of each objective (top = 1), and the alignment cycles found.

    A parent we were not given still counts as one level above. Objectives on a cycle, or
    aligned under one, have no depth (None). Iterative: no recursion limit on deep chains.
    """
    parents = _parents(by_id)
    depth: dict[str, int | None] = {}
    cycles: list[list[str]] = []
    for first in by_id:
        path: list[str] = []
        on_path: dict[str, int] = {}
        node = first
        base: int | None
        while True:
            if node in depth:
                base = depth[node]
                break
            if node in on_path:
                cycle = path[on_path[node]:]
                cycles.append(cycle)
                for member in cycle:
                    depth[member] = None
                del path[on_path[node]:]
                base = None
                break
            on_path[node] = len(path)
            path.append(node)
            parent = parents[node]
            if parent is None:
                base = 0
                break
            if parent not in by_id:
                base = 1
                break
            node = parent
        for member in reversed(path):
            base = None if base is None else base + 1
            depth[member] = base
    return depth, cycles


def lint(
    objectives: Iterable[LintObjective], limits: LintLimits = DEFAULT_THRESHOLDS
) -> list[LintWarning]:
    """Warnings about a set of OKRs (usually one workspace's objectives for a cycle or two).

    Codes: ``too_few_krs`` / ``too_many_krs`` (KRs per objective outside min_krs..max_krs),
    ``kr_vague_verb`` (improve/increase/better/optimise with no number), ``kr_no_number``
    (no digit, % or number word; milestone and children KRs are exempt), ``kr_no_owner``,
    ``cascade_too_deep`` (depth > max_cascade_depth, top level = 1), ``alignment_cycle``,
    and per owner and cycle ``too_few_objectives`` / ``too_many_objectives``.
    Objective and KR warnings come in input order, owner warnings last.
    """
    by_id: dict[str, LintObjective] = {}
    for objective in objectives:
        by_id[objective.id] = objective
    depths, cycles = _depths(by_id)
    on_cycle = {member: cycle for cycle in cycles for member in cycle}

    out: list[LintWarning] = []
    for oid, objective in by_id.items():
        out.extend(_kr_count_warnings(oid, len(objective.key_results), limits))
        for kr in objective.key_results:
            out.extend(_kr_warnings(objective, kr))
        out.extend(_alignment_warnings(oid, depths[oid], on_cycle.get(oid), limits))
    out.extend(_owner_warnings(by_id.values(), limits))
    return out


def _kr_count_warnings(oid: str, n: int, limits: LintLimits) -> list[LintWarning]:
    if n < limits.min_krs:
        return [LintWarning(
            "too_few_krs", oid,
            f"Objective {oid} has {_plural(n, 'key result')}; "
            f"aim for {limits.min_krs} to {limits.max_krs}",
        )]
    if n > limits.max_krs:
        return [LintWarning(
            "too_many_krs", oid,
            f"Objective {oid} has {_plural(n, 'key result')}; "
            f"aim for at most {limits.max_krs}: focus beats coverage",
        )]
    return []


def _alignment_warnings(oid: str, depth: int | None, cycle: list[str] | None,
                        limits: LintLimits) -> list[LintWarning]:
    if cycle is not None:
        loop = " -> ".join([*cycle, cycle[0]])
        return [LintWarning(
            "alignment_cycle", oid, f"Objective {oid} is aligned in a cycle: {loop}",
        )]
    if depth is not None and depth > limits.max_cascade_depth:
        return [LintWarning(
            "cascade_too_deep", oid,
            f"Objective {oid} is aligned {depth} levels deep; "
            f"at most {limits.max_cascade_depth} recommended",
        )]
    return []


def _owner_warnings(objectives: Iterable[LintObjective], limits: LintLimits) -> list[LintWarning]:
    """Per owner and cycle, in (cycle, owner) order: too few or too many objectives."""
    owned = Counter(
        (objective.cycle or "", objective.owner)
        for objective in objectives
        if objective.owner
    )
    out: list[LintWarning] = []
    for (cycle, owner), count in sorted(owned.items()):
        in_cycle = f" in {cycle}" if cycle else ""
        if count < limits.min_objectives:
            out.append(LintWarning(
                "too_few_objectives", owner,
                f"{owner} owns {_plural(count, 'objective')}{in_cycle}; "
                f"aim for at least {limits.min_objectives}",
            ))
        elif count > limits.max_objectives:
            out.append(LintWarning(
                "too_many_objectives", owner,
                f"{owner} owns {_plural(count, 'objective')}{in_cycle}; "
                f"aim for at most {limits.max_objectives}: focus beats coverage",
            ))
    return out
