"""Rollup benchmark: score a large synthetic OKR forest in-process.

Run from the repository root: ``python bench/bench_rollup.py`` (``--help`` for sizes).
Prints the best and median of several runs against the 0.5 s target for 100,000 KRs under
20,000 objectives, four levels deep. ``synthetic_forest`` is importable for other benchmarks.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain import (
    IssueFact,
    KRFacts,
    KRState,
    KRType,
    ObjectiveFacts,
    RollupMode,
    TrafficLight,
)
from scoring import rollup

TARGET_SECONDS = 0.5

_VALUE_TYPES = (
    KRType.INCREASE, KRType.INCREASE, KRType.DECREASE, KRType.ABOVE, KRType.BELOW,
    KRType.PERCENT, KRType.MILESTONE, KRType.MANUAL, KRType.ISSUES,
)


def _level_sizes(n_objectives: int, levels: int, fan_out: int = 8) -> list[int]:
    """Objectives per level, growing ``fan_out`` times per level down, summing to the total."""
    weights = [fan_out**i for i in range(levels)]
    sizes = [max(1, n_objectives * w // sum(weights)) for w in weights]
    sizes[-1] += n_objectives - sum(sizes)
    return sizes


def _kr(rng: random.Random, kr_id: str, kind: KRType, children: tuple[str, ...]) -> KRFacts:
    start = rng.uniform(0, 50)
    target = start + rng.uniform(10, 100)
    if kind == KRType.DECREASE:
        start, target = target, start
    return KRFacts(
        id=kr_id,
        kr_type=kind,
        start=start,
        target=target,
        current=None if rng.random() < 0.1 else rng.uniform(-10, 160),
        manual_score=rng.random(),
        weight=rng.choice((1.0, 1.0, 2.0, 0.5)),
        issues=tuple(IssueFact(closed=rng.random() < 0.5) for _ in range(rng.randint(0, 4)))
        if kind == KRType.ISSUES else (),
        children=children,
        declared_status=rng.choice((None, None, TrafficLight.GREEN, TrafficLight.RED)),
        state=KRState.PAUSED if rng.random() < 0.03 else KRState.ACTIVE,
    )


def synthetic_forest(
    n_objectives: int = 20_000, krs_per_objective: int = 5, levels: int = 4, seed: int = 1
) -> list[ObjectiveFacts]:
    """A deterministic forest: ``levels`` deep, each objective aligned to one in the level above.

    Rollup modes and KR types are mixed; a non-leaf objective's first KR is a ``children`` KR
    over its child objectives, so every rule of the rollup gets exercised.
    """
    rng = random.Random(seed)
    ids_by_level: list[list[str]] = []
    counter = 0
    for size in _level_sizes(n_objectives, levels):
        ids_by_level.append([f"o{counter + i}" for i in range(size)])
        counter += size
    children: dict[str, list[str]] = {oid: [] for level in ids_by_level for oid in level}
    for upper, lower in itertools.pairwise(ids_by_level):
        for oid in lower:
            children[rng.choice(upper)].append(oid)

    forest: list[ObjectiveFacts] = []
    for level in ids_by_level:
        for oid in level:
            kids = tuple(children[oid])
            krs = []
            for k in range(krs_per_objective):
                kind = KRType.CHILDREN if k == 0 and kids else rng.choice(_VALUE_TYPES)
                krs.append(_kr(rng, f"{oid}-kr{k}", kind, kids if kind == KRType.CHILDREN else ()))
            mode = rng.choices((RollupMode.KRS, RollupMode.CHILDREN, RollupMode.BOTH),
                               weights=(6, 2, 2))[0]
            forest.append(ObjectiveFacts(id=oid, key_results=tuple(krs), children=kids,
                                         rollup_mode=mode, weight=rng.choice((1.0, 2.0))))
    return forest


def time_rollup(forest: Sequence[ObjectiveFacts], repeat: int = 5) -> list[float]:
    """Wall-clock seconds of ``repeat`` rollups of ``forest`` (after one warm-up run)."""
    rollup(forest)
    timings = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        rollup(forest)
        timings.append(time.perf_counter() - started)
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--objectives", type=int, default=20_000)
    parser.add_argument("--krs-per-objective", type=int, default=5)
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    forest = synthetic_forest(args.objectives, args.krs_per_objective, args.levels)
    n_krs = sum(len(objective.key_results) for objective in forest)
    timings = time_rollup(forest, args.repeat)
    print(
        f"rollup: {n_krs} KRs / {len(forest)} objectives, {args.levels} levels: "
        f"best {min(timings):.3f} s, median {statistics.median(timings):.3f} s "
        f"(target < {TARGET_SECONDS} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
