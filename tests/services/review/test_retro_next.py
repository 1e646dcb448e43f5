"""Retrospective numbers and carrying objectives into the next cycle."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import Grade
from app.models import Cycle, KeyResult, Objective, Workspace
from app.services.errors import NotFound
from app.services.review import next_cycle, reflections, scores
from app.services.review import retro as retro_service
from scoring import Verdict
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org
from tests.services.review.flow import close_cycle


@pytest.fixture()
def org(session: Session) -> Org:
    o = build_org(session)
    close_cycle(session, o)
    return o


def _retro(session: Session, org: Org, **kw: object) -> retro_service.Retro:
    return retro_service.build(session=session, workspace_id=org.id,
                               cycle=org.cycles["FY27-Q1"], today=REVIEW_DAY, now=REVIEW_NOW,
                               settings=SETTINGS, **kw)  # type: ignore[arg-type]


def test_retro_numbers_use_final_scores(session: Session, org: Org) -> None:
    r = _retro(session, org)
    n = r.numbers
    assert (n.kr_count, n.final_count, n.provisional) == (4, 4, 0)
    assert n.average == pytest.approx((0.6 + 0.6 + 1.0 + 0.7) / 4)
    assert n.achievement_rate == pytest.approx(0.5)
    assert n.grades == {Grade.ACHIEVED: 1, Grade.STRONG: 1, Grade.PARTIAL: 2, Grade.MISS: 0}
    assert n.objective_average == pytest.approx((0.6 + 2.2 / 3 + 0.7) / 3)
    assert r.calibration.verdict == Verdict.ABOVE_SWEET_SPOT
    assert [(g.kr_key, g.self_score, g.final, g.reason) for g in r.gaps] == [
        ("ttv", 0.8, 0.6, "measured on a subset of sign-ups")]
    # The private objective's carry-forward item stays out of a public retro.
    assert [c.text for c in r.carry_forward] == ["instrument sign-up funnel"]
    assert r.previous is not None and r.previous.name == "FY26-Q4"
    assert r.previous.numbers.average == pytest.approx(0.5)
    assert r.delta("average") == pytest.approx(0.725 - 0.5)
    assert r.delta("achievement_rate") == pytest.approx(0.5)


def test_retro_for_one_team_and_with_private(session: Session, org: Org) -> None:
    eng = _retro(session, org, team_key="eng", scope_name="Engineering")
    assert eng.numbers.kr_count == 3 and eng.scope == "Engineering"
    everything = _retro(session, org, include_private=True)
    assert everything.numbers.kr_count == 5
    assert {c.text for c in everything.carry_forward} == {"instrument sign-up funnel",
                                                         "the secret plan"}


def test_retro_before_any_review_uses_computed_scores(session: Session) -> None:
    org = build_org(session)
    r = _retro(session, org)
    assert r.numbers.final_count == 0 and r.numbers.provisional == 4
    assert r.numbers.average == pytest.approx((0.6 + 7 / 9 + 1.0 + 0.6) / 4)


def test_cycle_next_copies_unfinished_objectives_as_drafts_once(session: Session, org: Org) -> None:
    res = next_cycle.carry_forward(session=session, workspace_id=org.id, today=REVIEW_DAY,
                                   now=REVIEW_NOW, settings=SETTINGS, actor_label="cli")
    assert res.created and res.source.name == "FY27-Q1"
    assert (res.cycle.name, res.cycle.start_date, res.cycle.end_date) == (
        "FY27-Q2", date(2026, 5, 1), date(2026, 7, 31))
    assert res.cycle.phase == "planning"
    # eng-quality is aspirational at 0.7: done; the others fell short of their bar.
    assert res.copied == [("co-growth", "co-growth-fy27-q2"),
                          ("eng-onboard", "eng-onboard-fy27-q2"),
                          ("cy-private", "cy-private-fy27-q2")]
    new = {o.key: o for o in session.scalars(select(Objective).where(
        Objective.cycle_id == res.cycle.id))}
    onboard = new["eng-onboard-fy27-q2"]
    assert onboard.is_draft and onboard.carried_from_id == org.objectives["eng-onboard"].id
    assert onboard.aligned_objective_id == new["co-growth-fy27-q2"].id
    assert new["cy-private-fy27-q2"].visibility == "private"
    krs = session.scalars(select(KeyResult).where(KeyResult.objective_id == onboard.id)).all()
    # "walk" was achieved; "ttv" continues from where it stands (7 days) to 5.
    assert [(k.key, k.start_value, k.target_value, k.current_value) for k in krs] == [
        ("ttv-fy27-q2", 7, 5, None)]
    again = next_cycle.carry_forward(session=session, workspace_id=org.id, today=REVIEW_DAY,
                                     now=REVIEW_NOW, settings=SETTINGS, actor_label="cli")
    assert not again.created and again.copied == [] and again.cycle.id == res.cycle.id
    assert sorted(again.already) == ["co-growth", "cy-private", "eng-onboard"]
    assert len(session.scalars(select(Cycle).where(Cycle.workspace_id == org.id)).all()) == 3


def test_carry_forward_reflection_carries_a_finished_objective(session: Session, org: Org) -> None:
    reflections.record(session=session, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
                       person=org.people["cy"], objective_key="eng-quality",
                       carry_forward="keep the bug budget", now=REVIEW_NOW)
    res = next_cycle.carry_forward(session=session, workspace_id=org.id, today=REVIEW_DAY,
                                   now=REVIEW_NOW, settings=SETTINGS, actor_label="cli")
    assert ("eng-quality", "eng-quality-fy27-q2") in res.copied


def test_cycle_next_without_cycles_says_so(session: Session) -> None:
    ws = Workspace(name="empty", created_at=REVIEW_NOW, holiday_dates=[])
    session.add(ws)
    session.flush()
    with pytest.raises(NotFound, match="no cycle"):
        next_cycle.carry_forward(session=session, workspace_id=ws.id, today=REVIEW_DAY,
                                 now=REVIEW_NOW, settings=SETTINGS, actor_label="cli")


def test_pending_is_empty_after_the_flow(session: Session, org: Org) -> None:
    assert scores.pending_scorers(session=session, workspace_id=org.id,
                                   cycle=org.cycles["FY27-Q1"]) == []
