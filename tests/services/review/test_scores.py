"""Self scores, final scores and who still owes them, on both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Review
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.review import scores as reviews
from app.services.review.scores import ScoreInput
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org


@pytest.fixture()
def org(session: Session) -> Org:
    return build_org(session)


def _open(session: Session, org: Org) -> None:
    reviews.open_review(session=session, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
                        today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS,
                        actor_id=None, actor_label="cli")


def test_open_review_moves_phase_and_snapshots_computed_scores_once(
    session: Session, org: Org
) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    assert cycle.phase == "review"
    got = reviews.scores(session=session, workspace_id=org.id, cycle=cycle)
    assert got["ttv"].computed == pytest.approx(7 / 9)
    assert got["walk"].computed == 1.0
    assert got["bugs"].computed == pytest.approx(0.6)
    rnd = reviews.review_round(session=session, workspace_id=org.id, cycle=cycle)
    # A week after opening is Saturday 9 May: the deadline is the next working day.
    assert rnd is not None and rnd.deadline == date(2026, 5, 11)
    count = session.scalar(select(func.count()).select_from(Review))
    _open(session, org)  # again: nothing changed, nothing added
    assert session.scalar(select(func.count()).select_from(Review)) == count


def test_self_score_needs_review_phase_and_ownership(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    with pytest.raises(NotAllowed, match="not open"):
        reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                                   person=org.people["bob"], entries=[ScoreInput("ttv", 0.7)],
                                   now=REVIEW_NOW)
    _open(session, org)
    with pytest.raises(NotAllowed, match="not yours"):
        reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                                   person=org.people["cy"], entries=[ScoreInput("ttv", 0.7)],
                                   now=REVIEW_NOW)
    with pytest.raises(NotFound):
        reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                                   person=org.people["bob"], entries=[ScoreInput("old-kr", 0.7)],
                                   now=REVIEW_NOW)


@pytest.mark.parametrize("bad", [1.1, -0.1, 0.75, float("nan")])
def test_self_score_must_be_a_tenth_between_0_and_1(session: Session, org: Org, bad: float) -> None:
    _open(session, org)
    with pytest.raises(InvalidValue) as exc:
        reviews.submit_self_scores(session=session, workspace_id=org.id,
                                   cycle=org.cycles["FY27-Q1"], person=org.people["bob"],
                                   entries=[ScoreInput("ttv", bad)], now=REVIEW_NOW)
    assert exc.value.field == "score:ttv"


def test_bad_entry_writes_nothing(session: Session, org: Org) -> None:
    _open(session, org)
    before = session.scalar(select(func.count()).select_from(Review))
    with pytest.raises(InvalidValue):
        reviews.submit_self_scores(
            session=session, workspace_id=org.id, cycle=org.cycles["FY27-Q1"],
            person=org.people["ada"],
            entries=[ScoreInput("walk", 1.0, "shipped"), ScoreInput("walk", 3.0)], now=REVIEW_NOW)
    assert session.scalar(select(func.count()).select_from(Review)) == before


def test_final_score_needs_reason_only_when_it_differs(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                               person=org.people["bob"],
                               entries=[ScoreInput("ttv", 0.8, "dashboard shows 7 days")],
                               now=REVIEW_NOW)
    ada = org.people["ada"]
    with pytest.raises(InvalidValue, match="differs from the self score") as exc:
        reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                    person=ada, entries=[ScoreInput("ttv", 0.6)], now=REVIEW_NOW)
    assert exc.value.field == "reason:ttv"
    # Same as the self score: no reason needed.
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle, person=ada,
                                entries=[ScoreInput("ttv", 0.8)], now=REVIEW_NOW)
    later = REVIEW_NOW + timedelta(hours=1)
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle, person=ada,
                                entries=[ScoreInput("ttv", 0.6, "measured on a subset")],
                                now=later)
    got = reviews.scores(session=session, workspace_id=org.id, cycle=cycle)["ttv"]
    assert (got.self_score, got.final, got.reason) == (0.8, 0.6, "measured on a subset")
    assert got.gap == pytest.approx(-0.2)
    # History keeps every entry: computed, self, the first final and the second.
    kinds = [(r.kind, r.score) for r in reviews.history(session=session, workspace_id=org.id,
                                                       kr=org.krs["ttv"])]
    assert kinds == [("computed", pytest.approx(7 / 9)), ("self", 0.8), ("final", 0.8),
                     ("final", 0.6)]
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "review.final")) == 2


def test_final_without_self_compares_with_computed(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    with pytest.raises(InvalidValue, match="computed score"):
        reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                    person=org.people["ada"], entries=[ScoreInput("bugs", 0.9)],
                                    now=REVIEW_NOW)
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                person=org.people["ada"], entries=[ScoreInput("bugs", 0.6)],
                                now=REVIEW_NOW)


def test_only_leads_up_the_chain_or_admins_set_final_scores(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    with pytest.raises(NotAllowed):
        reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                    person=org.people["bob"], entries=[ScoreInput("bugs", 0.6)],
                                    now=REVIEW_NOW)
    # Dee leads the parent team: allowed.
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                person=org.people["dee"], entries=[ScoreInput("bugs", 0.6)],
                                now=REVIEW_NOW)
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                person=org.people["cy"], entries=[ScoreInput("ttv", 0.8, "x")],
                                now=REVIEW_NOW, as_admin=True)


def test_double_submit_adds_one_row(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    for _ in range(2):
        reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                                   person=org.people["cy"],
                                   entries=[ScoreInput("bugs", 0.6, "six closed")], now=REVIEW_NOW)
    rows = session.scalars(select(Review).where(Review.kind == "self")).all()
    assert len(rows) == 1


def test_pending_scorers_lists_owners_and_reviewers(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    _open(session, org)
    pending = {p.name: p for p in reviews.pending_scorers(session=session, workspace_id=org.id,
                                                          cycle=cycle)}
    assert pending["Bob"].self_krs == ("ttv",)
    assert pending["Cy"].self_krs == ("bugs", "secret-kr")
    # Ada owns "walk" so her lead's lead (Dee) reviews it; Ada reviews her team's other KRs.
    assert set(pending["Ada"].final_krs) == {"ttv", "bugs", "secret-kr"}
    assert set(pending["Dee"].final_krs) == {"revenue", "walk"}
    assert pending["Dee"].self_krs == ("revenue",)
    reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                               person=org.people["bob"], entries=[ScoreInput("ttv", 0.8)],
                               now=REVIEW_NOW)
    org.people["cy"].active = False
    names = {p.name for p in reviews.pending_scorers(session=session, workspace_id=org.id,
                                                     cycle=cycle)}
    assert "Bob" not in names and "Cy" not in names


def test_closed_cycle_cannot_be_reopened_for_review(session: Session, org: Org) -> None:
    with pytest.raises(NotAllowed, match="closed"):
        reviews.open_review(session=session, workspace_id=org.id, cycle=org.cycles["FY26-Q4"],
                            today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS, actor_id=None,
                            actor_label="cli")
