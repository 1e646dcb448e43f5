"""Objective scores and whole-forest rollups.

The rules, in one place:

* An objective's KR part is the weighted mean of its KR scores (KR ``weight``). Weights that
  are not positive count as zero; when all are zero the plain mean is used.
* Paused KRs are left out of every rollup, so pausing a KR neither drags its objective down
  nor props it up. When *every* KR of an objective is paused they all count again: the
  objective keeps showing where it stood instead of dropping to 0.
* ``rollup_mode``: ``krs`` (default) uses the KRs only; an objective with no KRs scores 0.
  ``children`` uses the weighted mean of the child objectives' scores (weight = the child's
  ``ObjectiveFacts.weight``) and falls back to the KRs when it has no child objectives.
  ``both`` pools KRs and child objectives, each child counted with its own weight next to
  the KR weights.
* Child ids that name no objective in the forest are ignored.
* Alignment cycles: an objective on a cycle of alignment (through ``children`` or through the
  ``children`` of its ``children``-type KRs) is scored on its KRs alone, and its
  ``children``-type KRs ignore the objectives on that same cycle. The result does not depend
  on input order and never loops.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence

from app.domain import KRFacts, KRState, KRType, ObjectiveFacts, RollupMode, ScoreCard
from scoring._num import weighted_mean
from scoring.kr import _BY_TYPE, kr_score

_PAUSED = KRState.PAUSED
_CHILDREN = KRType.CHILDREN
_KRS = RollupMode.KRS
_BOTH = RollupMode.BOTH
# Running sums of (score, weight) pairs: weighted sum, total positive weight, plain sum, count.
_Sums = tuple[float, float, float, int]


def _mean(weighted: float, total_weight: float, plain: float, count: int) -> float:
    """weighted_mean from running sums (same zero-weight fallback)."""
    if total_weight > 0.0:
        return weighted / total_weight
    return plain / count if count else 0.0


def counted_krs(krs: Sequence[KRFacts]) -> Sequence[KRFacts]:
    """The KRs that count towards a rollup: all but the paused ones, unless all are paused."""
    active = [kr for kr in krs if kr.state != _PAUSED]
    return active if active else krs


def _combine(
    mode: RollupMode,
    kr_pairs: list[tuple[float, float]],
    child_pairs: list[tuple[float, float]],
) -> float:
    if mode == RollupMode.CHILDREN and child_pairs:
        return weighted_mean(child_pairs)
    if mode == RollupMode.BOTH:
        return weighted_mean(kr_pairs + child_pairs)
    return weighted_mean(kr_pairs)


def objective_score(
    objective: ObjectiveFacts,
    kr_scores: Mapping[str, float] | None = None,
    child_scores: Iterable[tuple[float, float]] = (),
) -> float:
    """Score one objective from its KR scores and its children's ``(score, weight)`` pairs.

    KR scores missing from ``kr_scores`` are computed with :func:`scoring.kr_score` (so a
    ``children`` KR without its children scores 0). ``child_scores`` only matter in the
    ``children`` and ``both`` modes. Use :func:`rollup` to score a whole forest.
    """
    kr_pairs = []
    for kr in counted_krs(objective.key_results):
        score = kr_scores.get(kr.id) if kr_scores is not None else None
        kr_pairs.append((kr_score(kr) if score is None else score, kr.weight))
    return _combine(objective.rollup_mode, kr_pairs, list(child_scores))


def _strongly_connected(
    nodes: Iterable[str], edges: Mapping[str, list[str]], finished: Container[str] = ()
) -> Iterator[list[str]]:
    """Tarjan's algorithm without recursion: components come out dependencies first.

    Nodes in ``finished`` are taken as already emitted and not visited again.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in nodes:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        while work:
            node, pending = work[-1]
            for nxt in pending:
                if nxt in finished:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges[nxt])))
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    if low[node] < low[parent]:
                        low[parent] = low[node]
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    yield component


def rollup(objectives: Iterable[ObjectiveFacts]) -> ScoreCard:
    """Score every KR and objective of a forest (see the module docstring for the rules).

    Iterative and linear in the size of the forest; each score is computed once. When two
    objectives share an id the later one wins.
    """
    by_id: dict[str, ObjectiveFacts] = {}
    for objective in objectives:
        by_id[objective.id] = objective
    child_ids, edges = _alignment(by_id)
    card = ScoreCard()
    scores = card.objectives
    # Objectives without alignment edges (the leaves, most of a forest) depend on nothing:
    # score them up front so the cycle search only walks the inner objectives.
    inner = []
    for oid, deps in edges.items():
        if deps:
            inner.append(oid)
        else:
            scores[oid] = _score(by_id[oid], by_id, child_ids[oid], card, None)
    for component in _strongly_connected(inner, edges, scores):
        cycle = None if len(component) == 1 and component[0] not in edges[component[0]] \
            else set(component)
        for oid in component:
            scores[oid] = _score(by_id[oid], by_id, child_ids[oid], card, cycle)
    return card


def _alignment(
    by_id: Mapping[str, ObjectiveFacts],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Each objective's child objectives, and its alignment edges (children, then the
    children of its ``children`` KRs), both restricted to objectives we know about."""
    child_ids: dict[str, list[str]] = {}
    edges: dict[str, list[str]] = {}
    for oid, objective in by_id.items():
        kids = [c for c in dict.fromkeys(objective.children) if c in by_id]
        child_ids[oid] = kids
        deps = kids
        for kr in objective.key_results:
            if kr.kr_type == _CHILDREN and kr.children:
                deps = deps + [c for c in kr.children if c in by_id]
        edges[oid] = deps
    return child_ids, edges


def _score(
    objective: ObjectiveFacts, by_id: Mapping[str, ObjectiveFacts], child_ids: list[str],
    card: ScoreCard, cycle: set[str] | None,
) -> float:
    """Score one objective whose dependencies are scored (KR scores go into ``card``).

    ``cycle`` is the alignment cycle the objective is on, if any: then it scores on its KRs
    alone, and its ``children`` KRs leave out the objectives on the cycle.
    """
    ws, tw, total, n = _kr_sums(objective, by_id, card, cycle)
    mode = objective.rollup_mode
    if cycle is None and mode != _KRS:
        c_ws, c_tw, c_sum, c_n = _child_sums(child_ids, by_id, card.objectives)
        if mode == _BOTH:
            return _mean(ws + c_ws, tw + c_tw, total + c_sum, n + c_n)
        if c_n:
            return _mean(c_ws, c_tw, c_sum, c_n)
    return _mean(ws, tw, total, n)


def _kr_sums(objective: ObjectiveFacts, by_id: Mapping[str, ObjectiveFacts], card: ScoreCard,
             cycle: set[str] | None) -> _Sums:
    """Score the objective's KRs into ``card``; the running sums of the ones that count.

    The hot loop of the module (once per KR of the forest): it keeps running sums instead
    of building (score, weight) pairs for weighted_mean, with the same rules.
    """
    by_type: Mapping[KRType, Callable[[KRFacts], float]] = _BY_TYPE
    progress, kr_scores, obj_scores = card.progress, card.key_results, card.objectives
    a_ws = a_tw = a_sum = p_ws = p_tw = p_sum = 0.0
    a_n = p_n = 0
    for kr in objective.key_results:
        kind = kr.kr_type
        if kind == _CHILDREN:
            raw = weighted_mean(
                (obj_scores[c], by_id[c].weight)
                for c in dict.fromkeys(kr.children)
                if c in by_id and (cycle is None or c not in cycle)
            )
        else:
            raw = by_type[kind](kr)
        kid = kr.id
        progress[kid] = raw
        value = raw if 0.0 <= raw <= 1.0 else (1.0 if raw > 1.0 else 0.0)
        kr_scores[kid] = value
        weight = kr.weight
        if kr.state == _PAUSED:
            p_n += 1
            p_sum += value
            if weight > 0.0:
                p_tw += weight
                p_ws += value * weight
        else:
            a_n += 1
            a_sum += value
            if weight > 0.0:
                a_tw += weight
                a_ws += value * weight
    if not a_n:  # every KR paused (or none at all): they all count
        return p_ws, p_tw, p_sum, p_n
    return a_ws, a_tw, a_sum, a_n


def _child_sums(child_ids: list[str], by_id: Mapping[str, ObjectiveFacts],
                obj_scores: Mapping[str, float]) -> _Sums:
    """The running sums of the child objectives' (score, weight) pairs."""
    c_ws = c_tw = c_sum = 0.0
    c_n = 0
    for c in child_ids:
        value = obj_scores[c]
        weight = by_id[c].weight
        c_n += 1
        c_sum += value
        if weight > 0.0:
            c_tw += weight
            c_ws += value * weight
    return c_ws, c_tw, c_sum, c_n


def mean_score(scores: Iterable[float]) -> float | None:
    """Plain mean of scores; None when there are none."""
    values = list(scores)
    return sum(values) / len(values) if values else None


def team_score(card: ScoreCard, objective_ids: Iterable[str]) -> float | None:
    """Mean score of a team's objectives; ids missing from the card are skipped."""
    return mean_score(card.objectives[oid] for oid in objective_ids if oid in card.objectives)


def company_score(card: ScoreCard, objective_ids: Iterable[str]) -> float | None:
    """Mean score of the company-level objectives (same rule as :func:`team_score`)."""
    return team_score(card, objective_ids)
