"""Objective scores and forest rollups: modes, paused KRs, cycles, dangling ids, scale."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import KRFacts, KRState, KRType, ObjectiveFacts, RollupMode, ScoreCard
from scoring import company_score, mean_score, objective_score, rollup, team_score


def pct(kr_id: str, current: float, weight: float = 1.0,
        state: KRState = KRState.ACTIVE) -> KRFacts:
    return KRFacts(id=kr_id, kr_type=KRType.PERCENT, current=current, weight=weight, state=state)


def obj(oid: str, *krs: KRFacts, children: tuple[str, ...] = (),
        mode: RollupMode = RollupMode.KRS, weight: float = 1.0) -> ObjectiveFacts:
    return ObjectiveFacts(id=oid, key_results=krs, children=children, rollup_mode=mode,
                          weight=weight)


class TestObjectiveScore:
    def test_weighted_mean_of_krs(self) -> None:
        o = obj("o", pct("a", 100, weight=3), pct("b", 20))
        assert rollup([o]).objectives["o"] == pytest.approx(0.8)
        assert objective_score(o) == pytest.approx(0.8)

    def test_uses_given_kr_scores(self) -> None:
        o = obj("o", pct("a", 100), pct("b", 0))
        assert objective_score(o, {"a": 0.5, "b": 0.5}) == pytest.approx(0.5)

    def test_default_weight_is_one(self) -> None:
        o = obj("o", pct("a", 90), pct("b", 30))
        assert rollup([o]).objectives["o"] == pytest.approx(0.6)

    def test_no_krs_scores_zero(self) -> None:
        assert rollup([obj("o")]).objectives["o"] == 0.0

    def test_all_zero_weights_fall_back_to_plain_mean(self) -> None:
        o = obj("o", pct("a", 100, weight=0), pct("b", 0, weight=0))
        assert rollup([o]).objectives["o"] == pytest.approx(0.5)

    def test_card_holds_kr_scores_and_raw_progress(self) -> None:
        o = obj("o", KRFacts(id="k", kr_type=KRType.INCREASE, start=0, target=10, current=15))
        card = rollup([o])
        assert card.key_results["k"] == 1.0
        assert card.progress["k"] == pytest.approx(1.5)


class TestPaused:
    def test_paused_krs_are_left_out(self) -> None:
        o = obj("o", pct("a", 80), pct("b", 0, state=KRState.PAUSED))
        card = rollup([o])
        assert card.objectives["o"] == pytest.approx(0.8)
        assert card.key_results["b"] == 0.0  # still scored on its own

    def test_all_paused_count_again(self) -> None:
        o = obj("o", pct("a", 80, state=KRState.PAUSED), pct("b", 20, state=KRState.PAUSED))
        assert rollup([o]).objectives["o"] == pytest.approx(0.5)
        assert objective_score(o) == pytest.approx(0.5)

    def test_done_krs_count(self) -> None:
        o = obj("o", pct("a", 100, state=KRState.DONE), pct("b", 0))
        assert rollup([o]).objectives["o"] == pytest.approx(0.5)


class TestModes:
    def forest(self, mode: RollupMode) -> list[ObjectiveFacts]:
        return [
            obj("parent", pct("p1", 0), children=("c1", "c2"), mode=mode),
            obj("c1", pct("k1", 100), weight=3),
            obj("c2", pct("k2", 20)),
        ]

    def test_krs_mode_ignores_children(self) -> None:
        assert rollup(self.forest(RollupMode.KRS)).objectives["parent"] == 0.0

    def test_children_mode_weighted_by_child_weight(self) -> None:
        # (1.0 * 3 + 0.2 * 1) / 4
        assert rollup(self.forest(RollupMode.CHILDREN)).objectives["parent"] == pytest.approx(0.8)

    def test_both_mode_pools_krs_and_children(self) -> None:
        # (0.0 * 1 + 1.0 * 3 + 0.2 * 1) / 5
        assert rollup(self.forest(RollupMode.BOTH)).objectives["parent"] == pytest.approx(0.64)

    def test_children_mode_without_children_falls_back_to_krs(self) -> None:
        o = obj("o", pct("a", 40), mode=RollupMode.CHILDREN)
        assert rollup([o]).objectives["o"] == pytest.approx(0.4)

    def test_children_mode_rolls_up_four_levels(self) -> None:
        forest = [
            obj("l1", children=("l2",), mode=RollupMode.CHILDREN),
            obj("l2", children=("l3",), mode=RollupMode.CHILDREN),
            obj("l3", children=("l4a", "l4b"), mode=RollupMode.CHILDREN),
            obj("l4a", pct("a", 30)),
            obj("l4b", pct("b", 70)),
        ]
        assert rollup(forest).objectives["l1"] == pytest.approx(0.5)

    def test_input_order_does_not_matter(self) -> None:
        forest = self.forest(RollupMode.BOTH)
        assert rollup(forest) == rollup(list(reversed(forest)))

    def test_children_kr_uses_child_objective_weights(self) -> None:
        forest = [
            obj("parent", KRFacts(id="launch", kr_type=KRType.CHILDREN, children=("c1", "c2")),
                pct("p2", 0)),
            obj("c1", pct("k1", 100), weight=3),
            obj("c2", pct("k2", 20)),
        ]
        card = rollup(forest)
        assert card.key_results["launch"] == pytest.approx(0.8)
        assert card.objectives["parent"] == pytest.approx(0.4)

    def test_children_kr_without_children_scores_zero(self) -> None:
        o = obj("o", KRFacts(id="launch", kr_type=KRType.CHILDREN), pct("b", 50))
        card = rollup([o])
        assert card.key_results["launch"] == 0.0
        assert card.objectives["o"] == pytest.approx(0.25)

    def test_duplicate_child_ids_count_once(self) -> None:
        forest = [obj("p", children=("c", "c", "d"), mode=RollupMode.CHILDREN),
                  obj("c", pct("a", 100)), obj("d", pct("b", 0))]
        assert rollup(forest).objectives["p"] == pytest.approx(0.5)


class TestRobustness:
    def test_dangling_child_ids_are_ignored(self) -> None:
        forest = [
            obj("p", pct("a", 0), children=("ghost", "c"), mode=RollupMode.CHILDREN),
            obj("c", pct("b", 60)),
            obj("q", KRFacts(id="k", kr_type=KRType.CHILDREN, children=("ghost",))),
        ]
        card = rollup(forest)
        assert card.objectives["p"] == pytest.approx(0.6)
        assert card.key_results["k"] == 0.0
        assert "ghost" not in card.objectives

    def test_only_dangling_children_falls_back_to_krs(self) -> None:
        o = obj("p", pct("a", 30), children=("ghost",), mode=RollupMode.CHILDREN)
        assert rollup([o]).objectives["p"] == pytest.approx(0.3)

    def test_two_cycle_is_scored_on_krs(self) -> None:
        forest = [
            obj("a", pct("ka", 20), children=("b",), mode=RollupMode.CHILDREN),
            obj("b", pct("kb", 80), children=("a",), mode=RollupMode.BOTH),
        ]
        card = rollup(forest)
        assert card.objectives == {"a": pytest.approx(0.2), "b": pytest.approx(0.8)}

    def test_self_alignment_is_a_cycle(self) -> None:
        o = obj("a", pct("ka", 20), children=("a",), mode=RollupMode.CHILDREN)
        assert rollup([o]).objectives["a"] == pytest.approx(0.2)

    def test_cycle_through_children_kr(self) -> None:
        forest = [
            obj("a", KRFacts(id="ka", kr_type=KRType.CHILDREN, children=("b", "leaf")),
                pct("ka2", 0)),
            obj("b", pct("kb", 40), children=("a",), mode=RollupMode.CHILDREN),
            obj("leaf", pct("kl", 100)),
        ]
        card = rollup(forest)
        # ka ignores b (same cycle) and keeps leaf; b is scored on its KRs.
        assert card.key_results["ka"] == 1.0
        assert card.objectives["a"] == pytest.approx(0.5)
        assert card.objectives["b"] == pytest.approx(0.4)

    def test_objective_above_a_cycle_uses_its_scores(self) -> None:
        forest = [
            obj("top", children=("a",), mode=RollupMode.CHILDREN),
            obj("a", pct("ka", 20), children=("b",), mode=RollupMode.CHILDREN),
            obj("b", pct("kb", 80), children=("a",), mode=RollupMode.CHILDREN),
        ]
        assert rollup(forest).objectives["top"] == pytest.approx(0.2)

    def test_deep_chain_has_no_recursion_limit(self) -> None:
        depth = 5000
        forest = [obj(f"o{i}", children=(f"o{i + 1}",), mode=RollupMode.CHILDREN)
                  for i in range(depth)]
        forest.append(obj(f"o{depth}", pct("leaf", 70)))
        assert rollup(forest).objectives["o0"] == pytest.approx(0.7)

    def test_long_cycle_terminates(self) -> None:
        n = 3000
        forest = [obj(f"o{i}", pct(f"k{i}", i % 100), children=(f"o{(i + 1) % n}",),
                      mode=RollupMode.CHILDREN) for i in range(n)]
        card = rollup(forest)
        assert card.objectives["o42"] == pytest.approx(0.42)

    def test_later_duplicate_objective_wins(self) -> None:
        card = rollup([obj("o", pct("a", 10)), obj("o", pct("b", 90))])
        assert card.objectives["o"] == pytest.approx(0.9)


class TestTeamAndCompany:
    card = ScoreCard(objectives={"a": 0.2, "b": 0.6, "c": 1.0})

    def test_team_is_mean_of_its_objectives(self) -> None:
        assert team_score(self.card, ["a", "b"]) == pytest.approx(0.4)

    def test_unknown_ids_skipped_and_empty_is_none(self) -> None:
        assert team_score(self.card, ["zzz"]) is None
        assert team_score(self.card, []) is None
        assert team_score(self.card, ["c", "zzz"]) == 1.0

    def test_company(self) -> None:
        assert company_score(self.card, ["a", "b", "c"]) == pytest.approx(0.6)

    def test_mean_score(self) -> None:
        assert mean_score([]) is None
        assert mean_score([0.5, 1.0]) == pytest.approx(0.75)


# --- properties ---------------------------------------------------------------------------

weights = st.floats(min_value=0.01, max_value=100)
kr_strategy = st.builds(
    KRFacts,
    id=st.uuids().map(str),
    kr_type=st.sampled_from([KRType.PERCENT, KRType.INCREASE, KRType.MILESTONE,
                             KRType.MANUAL]),
    start=st.just(0.0),
    target=st.just(50.0),
    current=st.floats(-50, 200),
    manual_score=st.floats(-1, 2),
    weight=weights,
    state=st.sampled_from(list(KRState)),
)


@st.composite
def forests(draw: st.DrawFn, acyclic: bool = False) -> list[ObjectiveFacts]:
    """Random forests with dangling ids and children KRs; cycles unless ``acyclic``."""
    n = draw(st.integers(1, 8))
    ids = [f"o{i}" for i in range(n)]
    out = []
    for i, oid in enumerate(ids):
        # Acyclic: children only among the later ids.
        pool = [*(ids[i + 1:] if acyclic else ids), "ghost"]
        child_ids = st.lists(st.sampled_from(pool), max_size=3).map(tuple)
        # Unique KR ids, as in a workspace.
        krs = [replace(k, id=f"{oid}-k{j}")
               for j, k in enumerate(draw(st.lists(kr_strategy, max_size=4)))]
        if draw(st.booleans()):
            krs.append(KRFacts(id=f"{oid}-c", kr_type=KRType.CHILDREN,
                               children=draw(child_ids), weight=draw(weights)))
        out.append(ObjectiveFacts(id=oid, key_results=tuple(krs), children=draw(child_ids),
                                  rollup_mode=draw(st.sampled_from(list(RollupMode))),
                                  weight=draw(weights)))
    return out


@given(forests())
def test_rollup_scores_are_within_bounds(forest: list[ObjectiveFacts]) -> None:
    card = rollup(forest)
    assert set(card.objectives) == {o.id for o in forest}
    for value in [*card.objectives.values(), *card.key_results.values()]:
        assert 0.0 <= value <= 1.0


@given(forests(), st.floats(min_value=0.01, max_value=100))
def test_scaling_all_weights_changes_nothing(
    forest: list[ObjectiveFacts], factor: float
) -> None:
    scaled = [
        ObjectiveFacts(
            id=o.id, children=o.children, rollup_mode=o.rollup_mode, weight=o.weight * factor,
            key_results=tuple(
                KRFacts(id=k.id, kr_type=k.kr_type, start=k.start, target=k.target,
                        current=k.current, manual_score=k.manual_score,
                        weight=k.weight * factor, children=k.children, state=k.state)
                for k in o.key_results
            ),
        )
        for o in forest
    ]
    before, after = rollup(forest), rollup(scaled)
    for oid, value in before.objectives.items():
        assert math.isclose(value, after.objectives[oid], rel_tol=1e-9, abs_tol=1e-12)


@given(kr_strategy, st.sampled_from(list(RollupMode)))
def test_objective_with_one_kr_scores_that_kr(k: KRFacts, mode: RollupMode) -> None:
    card = rollup([ObjectiveFacts(id="o", key_results=(k,), rollup_mode=mode)])
    assert math.isclose(card.objectives["o"], card.key_results[k.id], rel_tol=1e-12,
                        abs_tol=1e-12)


@given(forests(acyclic=True))
def test_rollup_agrees_with_objective_score(forest: list[ObjectiveFacts]) -> None:
    card = rollup(forest)
    by_id = {o.id: o for o in forest}
    for o in forest:
        kids = [c for c in dict.fromkeys(o.children) if c in by_id]
        expected = objective_score(
            o, card.key_results, [(card.objectives[c], by_id[c].weight) for c in kids]
        )
        assert math.isclose(card.objectives[o.id], expected, rel_tol=1e-9, abs_tol=1e-12)
