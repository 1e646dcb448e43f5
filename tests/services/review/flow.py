"""Drive the factory organisation through a complete scoring round (services only)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.services.review import reflections
from app.services.review import scores as reviews
from app.services.review.scores import ScoreInput
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org


def close_cycle(session: Session, org: Org) -> None:
    """Open review on FY27-Q1, self-score, finalise (one changed score), and reflect.

    Final scores (public KRs): revenue 0.6, ttv 0.6 (self 0.8), walk 1.0, bugs 0.7.
    """
    cycle = org.cycles["FY27-Q1"]
    reviews.open_review(session=session, workspace_id=org.id, cycle=cycle, today=REVIEW_DAY,
                        now=REVIEW_NOW, settings=SETTINGS, actor_id=None, actor_label="cli")
    later = REVIEW_NOW + timedelta(hours=2)
    for who, entries in (
        ("bob", [ScoreInput("ttv", 0.8, "7 days on the dashboard")]),
        ("ada", [ScoreInput("walk", 1.0, "shipped on 20 April")]),
        ("cy", [ScoreInput("bugs", 0.7, "six closed, one more in review"),
                ScoreInput("secret-kr", 0.5)]),
        ("dee", [ScoreInput("revenue", 0.6)]),
    ):
        reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                                   person=org.people[who], entries=entries, now=later)
    reviews.submit_final_scores(
        session=session, workspace_id=org.id, cycle=cycle, person=org.people["ada"],
        entries=[ScoreInput("ttv", 0.6, "measured on a subset of sign-ups"),
                 ScoreInput("bugs", 0.7), ScoreInput("secret-kr", 0.5)],
        now=later + timedelta(hours=1))
    reviews.submit_final_scores(
        session=session, workspace_id=org.id, cycle=cycle, person=org.people["dee"],
        entries=[ScoreInput("walk", 1.0), ScoreInput("revenue", 0.6)],
        now=later + timedelta(hours=1))
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["bob"], objective_key="eng-onboard",
                       worked="weekly demos", did_not_work="late data",
                       carry_forward="instrument sign-up funnel", now=later)
    reflections.record(session=session, workspace_id=org.id, cycle=cycle,
                       person=org.people["cy"], objective_key="cy-private",
                       carry_forward="the secret plan", now=later)
