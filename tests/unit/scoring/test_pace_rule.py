"""The pace rule: every row of the table in scoring.pace's docstring, and its properties."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

import scoring.pace
from app.domain import (
    Commitment,
    CycleWindow,
    KRFacts,
    KRType,
    ObjectiveFacts,
    ObjectiveStatusRule,
    PhasedTarget,
    TrafficLight,
)
from scoring import goal, kr_expected, kr_suggestion, objective_light, weighted_expected

G, Y, R = TrafficLight.GREEN, TrafficLight.YELLOW, TrafficLight.RED
CYCLE = CycleWindow("90 days", date(2026, 2, 1), date(2026, 5, 1))
ROW = re.compile(r"^\| (?P<kr>[^|]+?) +\| (?P<commit>\w+) +\| (?P<day>\d+) \((?P<md>[\d-]+)\) +"
                 r"\| (?P<score>[^|]+?) +\| (?P<expected>[\d.]+) +\| (?P<light>\w+) +\|$")


def _rows() -> list[dict[str, str]]:
    doc = scoring.pace.__doc__ or ""
    rows = [m.groupdict() for line in doc.splitlines() if (m := ROW.match(line.strip()))]
    assert len(rows) >= 12  # the table is there and parsed
    return rows


def _kr(text: str) -> KRFacts:
    if text.startswith("milestone"):
        due = re.search(r"due (\d\d)-(\d\d)", text)
        return KRFacts("m", KRType.MILESTONE,
                       due=date(2026, int(due[1]), int(due[2])) if due else None)
    if text == "manual":
        return KRFacts("k", KRType.MANUAL)
    targets = tuple(PhasedTarget(date(2026, int(m), int(d)), float(v))
                    for m, d, v in re.findall(r"(\d\d)-(\d\d)=(\d+)", text))
    return KRFacts("k", KRType.INCREASE, start=0, target=100, targets=targets)


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['kr']}@{r['md']}:{r['score']}")
def test_every_row_of_the_docstring_table(row: dict[str, str]) -> None:
    day = CYCLE.start + timedelta(days=int(row["day"]) - 1)
    assert day.strftime("%m-%d") == row["md"]
    kr = _kr(row["kr"])
    end_goal = goal(Commitment(row["commit"]))
    score = {"done": 1.0, "not done": 0.0}.get(row["score"]) if kr.kr_type == KRType.MILESTONE \
        else float(row["score"])
    assert score is not None
    expected = kr_expected(kr, CYCLE, day, end_goal=end_goal)
    assert round(expected, 2) == float(row["expected"])
    assert kr_suggestion(kr, score, expected, CYCLE, day) == TrafficLight(row["light"])


days = st.integers(min_value=-5, max_value=100).map(lambda n: CYCLE.start + timedelta(days=n))
commitments = st.sampled_from(list(Commitment))
aspirational = st.floats(min_value=0.1, max_value=1.0)


@given(days, days, commitments, aspirational)
def test_linear_expected_never_decreases_and_ends_at_the_goal(
    a: date, b: date, commitment: Commitment, target: float
) -> None:
    kr = KRFacts("k", KRType.INCREASE, start=0, target=10)
    g = goal(commitment, target)
    early, late = sorted((a, b))
    assert 0.0 <= kr_expected(kr, CYCLE, early, end_goal=g) <= kr_expected(
        kr, CYCLE, late, end_goal=g) <= g + 1e-12
    assert kr_expected(kr, CYCLE, CYCLE.end, end_goal=g) == pytest.approx(g)
    assert kr_expected(kr, CYCLE, CYCLE.start - timedelta(days=1), end_goal=g) == 0.0


@given(days, aspirational)
def test_aspirational_expects_the_target_share_of_committed(day: date, target: float) -> None:
    kr = KRFacts("k", KRType.MANUAL)
    committed = kr_expected(kr, CYCLE, day, end_goal=goal(Commitment.COMMITTED, target))
    aspir = kr_expected(kr, CYCLE, day, end_goal=goal(Commitment.ASPIRATIONAL, target))
    assert aspir == pytest.approx(committed * target)


@st.composite
def phased(draw: st.DrawFn) -> tuple[PhasedTarget, ...]:
    offsets = sorted(draw(st.sets(st.integers(0, 89), min_size=1, max_size=5)))
    values = draw(st.lists(st.floats(0, 100), min_size=len(offsets), max_size=len(offsets)))
    return tuple(PhasedTarget(CYCLE.start + timedelta(days=o), v)
                 for o, v in zip(offsets, values, strict=True))


@given(phased(), days)
def test_phased_targets_pass_through_each_point_and_stay_between_neighbours(
    targets: tuple[PhasedTarget, ...], day: date
) -> None:
    kr = KRFacts("k", KRType.INCREASE, start=0, target=100, targets=targets)
    for t in targets:
        assert kr_expected(kr, CYCLE, t.on) == pytest.approx(t.value / 100)
    ys = [0.0, *(t.value / 100 for t in targets), 1.0]
    value = kr_expected(kr, CYCLE, day)
    assert min(ys) - 1e-9 <= value <= max(ys) + 1e-9


@given(phased(), days)
def test_decrease_kr_phased_targets_use_the_kr_direction(
    targets: tuple[PhasedTarget, ...], day: date
) -> None:
    up = KRFacts("u", KRType.INCREASE, start=0, target=100, targets=targets)
    flipped = tuple(PhasedTarget(t.on, 100 - t.value) for t in targets)
    down = KRFacts("d", KRType.DECREASE, start=100, target=0, targets=flipped)
    assert kr_expected(up, CYCLE, day) == pytest.approx(kr_expected(down, CYCLE, day))


@given(st.integers(-10, 100), st.integers(0, 89), st.integers(0, 14))
def test_milestone_light_by_due_date(offset: int, due_offset: int, window: int) -> None:
    day = CYCLE.start + timedelta(days=offset)
    due = CYCLE.start + timedelta(days=due_offset)
    kr = KRFacts("m", KRType.MILESTONE, due=due)
    expected = kr_expected(kr, CYCLE, day)
    light = kr_suggestion(kr, 0.0, expected, CYCLE, day, at_risk_days=window)
    if day > due:
        assert (light, expected) == (R, 1.0)
    elif (due - day).days <= window:
        assert (light, expected) == (Y, 0.0)
    else:
        assert (light, expected) == (G, 0.0)
    assert kr_suggestion(kr, 1.0, expected, CYCLE, day, at_risk_days=window) == G


@given(st.integers(-10, 100))
def test_milestone_without_due_is_due_on_the_last_day(offset: int) -> None:
    day = CYCLE.start + timedelta(days=offset)
    bare = KRFacts("m", KRType.MILESTONE)
    dated = KRFacts("m", KRType.MILESTONE, due=CYCLE.end)
    assert kr_suggestion(bare, 0.0, kr_expected(bare, CYCLE, day), CYCLE, day) == \
        kr_suggestion(dated, 0.0, kr_expected(dated, CYCLE, day), CYCLE, day)


scores = st.floats(min_value=0, max_value=1)
lights = st.lists(st.sampled_from([G, Y, R]), min_size=1, max_size=5)


@given(scores, scores, st.lists(st.sampled_from([None, G, Y, R]), min_size=1, max_size=5))
def test_weighted_objective_light_is_the_suggestion_capped_by_a_declared_red(
    score: float, expected: float, declared: list[TrafficLight | None]
) -> None:
    krs = tuple(KRFacts(f"k{i}", KRType.MANUAL, declared_status=d) for i, d in enumerate(declared))
    objective = ObjectiveFacts("o", key_results=krs)
    light = objective_light(objective, score, expected, [])
    suggested = scoring.pace.suggest_status(score, expected)
    if R in declared:
        assert light.rank >= Y.rank
        assert light == (Y if suggested == G else suggested)
    else:
        assert light == suggested


@given(scores, scores, lights)
def test_worst_rule_keeps_the_worst_kr_light(score: float, expected: float,
                                             kr_lights: list[TrafficLight]) -> None:
    objective = ObjectiveFacts("o", key_results=(KRFacts("k", KRType.MANUAL),))
    assert objective_light(objective, score, expected, kr_lights,
                           rule=ObjectiveStatusRule.WORST) == max(kr_lights, key=lambda s: s.rank)


def test_weighted_expected_uses_kr_weights_and_skips_paused() -> None:
    from app.domain import KRState

    krs = (KRFacts("a", KRType.MANUAL, weight=3), KRFacts("b", KRType.MANUAL, weight=1),
           KRFacts("c", KRType.MANUAL, state=KRState.PAUSED))
    assert weighted_expected(krs, {"a": 0.4, "b": 0.8, "c": 0.0}) == pytest.approx(0.5)
    assert weighted_expected(krs, {"a": 0.4, "b": 0.8}, [(0.2, 1.0)],
                             mode_children=True) == pytest.approx(0.2)
