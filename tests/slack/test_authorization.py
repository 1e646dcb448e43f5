"""Who may do what from Slack, through the real Bolt app and the fake Slack.

- Creating an objective in a team, or moving one into it, needs a member or lead of that team
  or an admin (it counts in that team's score and digest); aligning to another team's
  objective does not.
- A target or weight change in the KR edit modal is a mid-cycle revision: it needs a reason,
  is kept in kr_revisions and told in the digest, and a closed cycle refuses it.
- ``/okr report`` posts to a channel only for a lead of that channel's team and admins;
  anyone else gets the file in a DM, with a line saying why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.models import AuditEntry, Cycle, KeyResult, KRRevision, Objective
from app.services.scheduling import digest_facts
from tests.fixtures.slack import Harness
from tests.slack.state import submitted_values
from tests.slackreq import json_body

NEW = {"obj_title": "Win the enterprise market", "kr_title:0": "Sign 10 customers",
       "kr_type:0": "increase", "kr_start:0": "0", "kr_target:0": "10"}


def open_view(h: Harness, user: str, text: str) -> dict[str, Any]:
    h.send(h.req.command(user, text))
    view = h.fake.last_view()
    assert view is not None
    return view


def submit(h: Harness, user: str, view: dict[str, Any],
           overrides: dict[str, Any]) -> dict[str, Any]:
    resp = h.send(h.req.view_submission(user, view, submitted_values(view, overrides)))
    assert resp.status == 200
    return json_body(resp)


def created(h: Harness) -> list[Objective]:
    with h.session() as s:
        return list(s.scalars(select(Objective).where(Objective.title == NEW["obj_title"])))


# --- objectives in teams ----------------------------------------------------------------------


def test_a_member_cannot_create_an_objective_in_another_team(slack: Harness) -> None:
    h = slack
    body = submit(h, "U0BOB", open_view(h, "U0BOB", "new"), {**NEW, "obj_team": "company"})
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["obj_team"]
    assert "only members and leads of Company or an OKR admin" in body["errors"]["obj_team"]
    assert created(h) == []
    with h.session() as s:
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "objective.create")).first() is None


def team_options(view: dict[str, Any]) -> list[str]:
    (team,) = [b for b in view["blocks"] if b.get("block_id") == "obj_team"]
    return [o["value"] for o in team["element"]["options"]]


def test_the_team_picker_offers_the_teams_one_may_use(slack: Harness) -> None:
    h = slack
    assert team_options(open_view(h, "U0BOB", "new")) == ["eng"]
    assert team_options(open_view(h, "U0DEE", "new")) == ["company", "eng"]
    # Where the objective already is stays offered, for whoever may edit it.
    assert team_options(open_view(h, "U0DEE", "edit company-growth")) == ["company", "eng"]
    assert team_options(open_view(h, "U0ADA", "edit eng-onboarding")) == ["eng"]


def test_own_team_and_aligning_to_another_team_stay_allowed(slack: Harness) -> None:
    h = slack
    body = submit(h, "U0BOB", open_view(h, "U0BOB", "new"),
                  {**NEW, "obj_team": "eng", "obj_align": "o:company-growth"})
    assert body["response_action"] == "update", body
    (obj,) = created(h)
    assert obj.team_id == h.org.teams["eng"].id
    assert obj.aligned_objective_id == h.org.objectives["company-growth"].id


def test_an_admin_creates_in_any_team(slack: Harness) -> None:
    h = slack
    body = submit(h, "U0DEE", open_view(h, "U0DEE", "new"), {**NEW, "obj_team": "eng"})
    assert body["response_action"] == "update", body
    assert [o.team_id for o in created(h)] == [h.org.teams["eng"].id]


def test_moving_an_objective_into_another_team_needs_its_people(slack: Harness) -> None:
    h = slack
    view = open_view(h, "U0ADA", "edit eng-onboarding")
    body = submit(h, "U0ADA", view, {"obj_team": "company", "obj_title": "Moved"})
    assert body["response_action"] == "errors"
    assert "Company" in body["errors"]["obj_team"]
    with h.session() as s:
        obj = s.scalars(select(Objective).where(Objective.key == "eng-onboarding")).one()
        assert (obj.team_id, obj.title) == (h.org.teams["eng"].id, "Deliver a great onboarding")
    # An admin may; and the objective's own team needs no re-check on other edits.
    view = open_view(h, "U0DEE", "edit eng-onboarding")
    assert submit(h, "U0DEE", view, {"obj_team": "company"})["response_action"] == "update"
    view = open_view(h, "U0DEE", "edit company-growth")
    assert submit(h, "U0DEE", view, {"obj_title": "Grow"})["response_action"] == "update"


# --- target and weight in the edit modal ------------------------------------------------------


def revisions(h: Harness) -> list[KRRevision]:
    with h.session() as s:
        return list(s.scalars(select(KRRevision).order_by(KRRevision.id)))


def test_target_change_in_the_edit_modal_needs_a_reason(slack: Harness) -> None:
    h = slack
    view = open_view(h, "U0BOB", "edit kr-inc")
    assert any(b.get("block_id") == "kr_reason" for b in view["blocks"])
    body = submit(h, "U0BOB", view, {"kr_target": "40"})
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["kr_reason"]
    assert "say why the target changes" in body["errors"]["kr_reason"]
    body = submit(h, "U0BOB", view, {"kr_weight": "2", "kr_target": "40"})
    assert "say why the target and weight change" in body["errors"]["kr_reason"]
    with h.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one()
        assert (kr.target_value, kr.weight) == (50.0, 1.0)
    assert revisions(h) == []


def test_target_and_weight_changes_are_revisions_told_in_the_digest(slack: Harness) -> None:
    h = slack
    view = open_view(h, "U0BOB", "edit kr-inc")
    body = submit(h, "U0BOB", view, {"kr_target": "40", "kr_weight": "2",
                                     "kr_reason": "half the sign-ups were bots"})
    assert body["response_action"] == "update", body
    rows = revisions(h)
    assert [(r.field, r.old_value, r.new_value, r.reason) for r in rows] == [
        ("target", 50.0, 40.0, "half the sign-ups were bots"),
        ("weight", 1.0, 2.0, "half the sign-ups were bots")]
    assert {r.author_id for r in rows} == {h.org.people["U0BOB"].id}
    with h.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one()
        assert (kr.target_value, kr.weight) == (40.0, 2.0)
        adjust = s.scalars(select(AuditEntry).where(AuditEntry.action == "kr.adjust")).one()
        assert adjust.after["reason"] == "half the sign-ups were bots"
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "key_result.edit")).first() is None
        cycle = s.get_one(Cycle, h.org.cycle.id if h.org.cycle else 0)
        notes = digest_facts.adjustment_notes(s, h.org.workspace.id, h.org.teams["eng"].id,
                                              cycle, h.now - timedelta(days=1))
    assert [n.note for n in notes] == [
        "target changed from 50 to 40: half the sign-ups were bots",
        "weight changed from 1 to 2: half the sign-ups were bots"]
    # Other fields change without a reason; an untouched target is not a change.
    again = open_view(h, "U0BOB", "edit kr-inc")
    assert submit(h, "U0BOB", again, {"kr_title": "Grow activation fast"})[
        "response_action"] == "update"
    assert len(revisions(h)) == 2


def test_an_unrounded_target_survives_an_unrelated_edit(slack: Harness) -> None:
    h = slack
    with h.session() as s:
        s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one().target_value = 50.125
        s.commit()
    view = open_view(h, "U0BOB", "edit kr-inc")
    assert submit(h, "U0BOB", view, {"kr_unit": "people"})["response_action"] == "update"
    with h.session() as s:
        assert s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one() \
            .target_value == 50.125
    assert revisions(h) == []


def test_a_closed_cycle_refuses_the_target_change(slack: Harness) -> None:
    h = slack
    view = open_view(h, "U0BOB", "edit kr-inc")
    with h.session() as s:
        s.get_one(Cycle, h.org.cycle.id if h.org.cycle else 0).phase = "closed"
        s.commit()
    body = submit(h, "U0BOB", view, {"kr_target": "40", "kr_reason": "too ambitious"})
    assert body["response_action"] == "errors"
    assert "FY27-Q1 is closed" in str(body["errors"])
    assert revisions(h) == []
    with h.session() as s:
        assert s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one() \
            .target_value == 50.0


# --- /okr report ------------------------------------------------------------------------------


def uploaded_to(h: Harness) -> str:
    return str(h.fake.calls_to("files.completeUploadExternal")[-1].params["channel_id"])


def test_a_member_gets_the_report_in_a_dm(slack: Harness) -> None:
    h = slack
    h.command("U0BOB", "report", channel_id="C0ENG")
    assert uploaded_to(h) == "D0BOB"
    text = h.fake.responses()[-1]["text"]
    assert "Sent `okr-report-FY27-Q1.html` to you in a DM" in text
    assert "only a lead of this channel's team or an OKR admin" in text
    assert h.fake.responses()[-1].get("response_type") != "in_channel"


def test_the_teams_lead_posts_in_its_channel_but_not_in_another(slack: Harness) -> None:
    h = slack
    h.command("U0ADA", "report", channel_id="C0ENG")
    assert uploaded_to(h) == "C0ENG"
    assert "Posted `okr-report-FY27-Q1.html` to this channel" in h.fake.responses()[-1]["text"]
    h.command("U0ADA", "report", channel_id="C0SHARED")
    assert uploaded_to(h) == "D0ADA"


def test_an_admin_posts_anywhere(slack: Harness) -> None:
    h = slack
    h.command("U0DEE", "report md", channel_id="C0SHARED")
    assert uploaded_to(h) == "C0SHARED"
    h.fake.assert_no_violations()
