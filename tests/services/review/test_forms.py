"""What the scoring and reflection forms offer each person."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.services.errors import NotAllowed, NotFound
from app.services.review import forms as review_forms
from app.services.review import scores as reviews
from app.services.review.scores import ScoreInput
from tests.services.review.factory import REVIEW_DAY, REVIEW_NOW, SETTINGS, Org, build_org


@pytest.fixture()
def org(session: Session) -> Org:
    o = build_org(session)
    reviews.open_review(session=session, workspace_id=o.id, cycle=o.cycles["FY27-Q1"],
                        today=REVIEW_DAY, now=REVIEW_NOW, settings=SETTINGS, actor_id=None,
                        actor_label="cli")
    return o


def _keys(items: list[review_forms.FormItem]) -> list[str]:
    return [i.kr.key for i in items]


def test_review_cycle_is_the_one_in_review(session: Session, org: Org) -> None:
    assert review_forms.review_cycle(session=session, workspace_id=org.id).name == "FY27-Q1"
    with pytest.raises(NotAllowed, match="not open"):
        review_forms.review_cycle(session=session, workspace_id=org.id, name="FY26-Q4")
    org.cycles["FY27-Q1"].phase = "closed"
    with pytest.raises(NotFound, match="no cycle is in review"):
        review_forms.review_cycle(session=session, workspace_id=org.id)


def test_forms_offer_own_krs_and_team_krs_unscored_first(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    kw = dict(session=session, workspace_id=org.id, cycle=cycle, today=REVIEW_DAY,
              now=REVIEW_NOW, settings=SETTINGS)
    assert _keys(review_forms.self_items(person=org.people["cy"], **kw)) == ["bugs",
                                                                              "secret-kr"]
    reviews.submit_self_scores(session=session, workspace_id=org.id, cycle=cycle,
                               person=org.people["cy"], entries=[ScoreInput("bugs", 0.6)],
                               now=REVIEW_NOW)
    assert _keys(review_forms.self_items(person=org.people["cy"], **kw)) == ["secret-kr",
                                                                              "bugs"]
    assert _keys(review_forms.lead_items(person=org.people["ada"], **kw)) == [
        "ttv", "bugs", "secret-kr"]
    reviews.submit_final_scores(session=session, workspace_id=org.id, cycle=cycle,
                                person=org.people["ada"], entries=[ScoreInput("ttv", 0.8, "x")],
                                now=REVIEW_NOW)
    assert _keys(review_forms.lead_items(person=org.people["ada"], **kw))[-1] == "ttv"
    # Dee reviews the company KR and Ada's own KR; Bob reviews nothing.
    assert _keys(review_forms.lead_items(person=org.people["dee"], **kw)) == ["revenue", "walk"]
    assert review_forms.lead_items(person=org.people["bob"], **kw) == []
    assert "ttv" not in _keys(review_forms.lead_items(person=org.people["bob"], as_admin=True,
                                                      **kw))


def test_reflect_choices(session: Session, org: Org) -> None:
    cycle = org.cycles["FY27-Q1"]
    bob = review_forms.reflect_choices(session=session, workspace_id=org.id, cycle=cycle,
                                       person=org.people["bob"])
    assert [k for k, _ in bob] == ["eng-onboard", "eng-quality"]  # not Cy's private one
    cy = review_forms.reflect_choices(session=session, workspace_id=org.id, cycle=cycle,
                                      person=org.people["cy"])
    assert [k for k, _ in cy] == ["eng-onboard", "eng-quality", "cy-private"]
