"""Creating and editing objectives and KRs through the modals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEntry, KeyResult, Objective
from blocks.ids import Action
from tests.fixtures.slack import Harness
from tests.slack.blockkit import validate_view
from tests.slack.state import submitted_values
from tests.slackreq import json_body

VALID_NEW = {"obj_title": "Win the enterprise market", "kr_title:0": "Sign 10 customers",
             "kr_type:0": "increase", "kr_start:0": "0", "kr_target:0": "10",
             "kr_unit:0": "customers", "kr_title:1": "Launch SSO", "kr_type:1": "milestone"}


def open_new(slack: Harness, user: str) -> dict[str, Any]:
    slack.send(slack.req.command(user, "new"))
    view = slack.fake.last_view()
    assert view is not None
    return view


def submit(slack: Harness, user: str, view: dict[str, Any],
           overrides: dict[str, Any]) -> dict[str, Any]:
    resp = slack.send(slack.req.view_submission(user, view, submitted_values(view, overrides)))
    assert resp.status == 200
    return json_body(resp)


def test_create_objective_with_krs(slack: Harness) -> None:
    view = open_new(slack, "U0BOB")
    body = submit(slack, "U0BOB", view, {**VALID_NEW, "obj_align": "k:kr-rev"})
    assert body["response_action"] == "update"
    assert "win-the-enterprise-market" in str(body["view"])
    with slack.session() as s:
        obj = s.scalars(select(Objective).where(Objective.key == "win-the-enterprise-market")).one()
        krs = list(s.scalars(select(KeyResult).where(KeyResult.objective_id == obj.id)
                             .order_by(KeyResult.position)))
        assert [k.key for k in krs] == ["sign-10-customers", "launch-sso"]
        assert krs[0].target_value == 10.0 and krs[0].unit == "customers"
        assert obj.owner_id == slack.org.people["U0BOB"].id
        assert obj.aligned_kr_id == slack.org.krs["kr-rev"].id
        assert obj.team_id == slack.org.teams["eng"].id
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "objective.create")).one()
        assert entry.actor_label == "slack:U0BOB"
    assert slack.fake.home("U0BOB") is not None


def test_double_submit_creates_once(slack: Harness) -> None:
    view = open_new(slack, "U0BOB")
    submit(slack, "U0BOB", view, VALID_NEW)
    submit(slack, "U0BOB", view, VALID_NEW)
    with slack.session() as s:
        assert len(s.scalars(select(Objective).where(
            Objective.title == "Win the enterprise market")).all()) == 1


@pytest.mark.parametrize(("overrides", "block", "words"), [
    ({"obj_title": None}, "obj_title", "give it a title"),
    ({"obj_title": "x" * 501}, "obj_title", "under 500"),
    ({"obj_cycle": "999999"}, "obj_cycle", "pick a cycle"),
    ({"obj_cycle": "abc"}, "obj_cycle", "pick a cycle"),
    ({"obj_team": "nope"}, "obj_team", "pick a team"),
    ({"obj_owner": "U0NOBODY"}, "obj_owner", "pick a person"),
    ({"obj_owner": "<script>"}, "obj_owner", "pick a person"),
    ({"obj_owner": "U0CY"}, "obj_owner", "only a team lead or an OKR admin"),
    ({"obj_align": "o:ada-secret"}, "obj_align", "pick an objective"),
    ({"obj_align": "x:y"}, "obj_align", "pick an objective"),
    ({"obj_visibility": "secret"}, "obj_visibility", "public or private"),
    ({"obj_commitment": "maybe"}, "obj_commitment", "committed or aspirational"),
    ({"kr_title:0": None, "kr_type:0": None, "kr_start:0": None, "kr_target:0": None,
      "kr_unit:0": None}, "kr_title:0", "give it a title"),
    ({"kr_type:0": "children"}, "kr_type:0", "aligning objectives"),
    ({"kr_type:0": "bogus"}, "kr_type:0", "pick a type"),
    ({"kr_start:0": None}, "kr_start:0", "where it starts"),
    ({"kr_target:0": "abc"}, "kr_target:0", "enter a number"),
    ({"kr_target:0": "-1"}, "kr_target:0", "target above the start"),
    ({"kr_unit:0": "u" * 40}, "kr_unit:0", "under 32"),
    ({"kr_weight:0": "0"}, "kr_weight:0", "positive number"),
    ({"kr_owner:0": "U0NOBODY"}, "kr_owner:0", "pick a person"),
    ({"kr_title:1": None, "kr_target:1": "5"}, "kr_title:1", "give it a title"),
    ({"kr_type:1": "above", "kr_target:1": None}, "kr_target:1", "threshold"),
])
def test_invalid_creation_is_refused_inline(slack: Harness, overrides: dict[str, Any],
                                            block: str, words: str) -> None:
    slack.fake.fail_next("users.info", "user_not_found")
    view = open_new(slack, "U0BOB")
    body = submit(slack, "U0BOB", view, {**VALID_NEW, **overrides})
    assert body["response_action"] == "errors", body
    assert list(body["errors"]) == [block]
    assert words in body["errors"][block]
    with slack.session() as s:
        assert s.scalars(select(Objective).where(
            Objective.title.like("Win%"))).first() is None
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "objective.create")).first() is None


def test_lead_may_create_for_team_member(slack: Harness) -> None:
    view = open_new(slack, "U0ADA")
    body = submit(slack, "U0ADA", view, {**VALID_NEW, "obj_owner": "U0CY"})
    assert body["response_action"] == "update"


def test_add_kr_slot_updates_the_modal(slack: Harness) -> None:
    view = open_new(slack, "U0BOB")
    slack.send(slack.req.button("U0BOB", Action.ADD_KR, "4", view=view))
    update = slack.fake.calls_to("views.update")[-1]
    assert update.params["view"]["blocks"] and "kr_title:3" in str(update.params["view"])


def test_alignment_options_filter_by_text_and_visibility(slack: Harness) -> None:
    resp = slack.send(slack.req.block_suggestion("U0BOB", Action.ALIGN_SELECT, "grow",
                                                 block_id="obj_align"))
    options = json_body(resp)["options"]
    values = [o["value"] for o in options]
    assert values == ["o:company-growth", "k:kr-inc"]
    resp = slack.send(slack.req.block_suggestion("U0BOB", Action.ALIGN_SELECT, "",
                                                 block_id="obj_align"))
    everything = [o["value"] for o in json_body(resp)["options"]]
    assert "o:ada-secret" not in everything and "k:kr-secret" not in everything
    assert "o:eng-onboarding" in everything
    resp = slack.send(slack.req.block_suggestion("U0ADA", Action.ALIGN_SELECT, "",
                                                 block_id="obj_align"))
    assert "o:ada-secret" in [o["value"] for o in json_body(resp)["options"]]


def test_edit_kr(slack: Harness) -> None:
    slack.send(slack.req.command("U0BOB", "edit kr-inc"))
    view = slack.fake.last_view()
    assert view is not None
    body = submit(slack, "U0BOB", view, {"kr_target": "60", "kr_state": "paused",
                                         "kr_reason": "launch moved up"})
    assert body["response_action"] == "update"
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one()
        assert (kr.target_value, kr.state) == (60.0, "paused")
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "key_result.edit")).one()
        assert entry.before == {"state": "active"}
        adjust = s.scalars(select(AuditEntry).where(AuditEntry.action == "kr.adjust")).one()
        assert adjust.before == {"target": 50.0}


def test_edit_kr_submitted_by_someone_else_is_refused(slack: Harness) -> None:
    slack.send(slack.req.command("U0BOB", "edit kr-inc"))
    view = slack.fake.last_view()
    assert view is not None
    resp = slack.send(slack.req.view_submission("U0CY", view,
                                                submitted_values(view, {"kr_target": "99"})))
    body = json_body(resp)
    assert body["response_action"] == "errors"
    with slack.session() as s:
        assert s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one() \
            .target_value == 50.0


def test_edit_objective_by_lead(slack: Harness) -> None:
    slack.send(slack.req.command("U0ADA", "edit eng-onboarding"))
    view = slack.fake.last_view()
    assert view is not None
    body = submit(slack, "U0ADA", view, {"obj_title": "Deliver a superb onboarding",
                                         "obj_align": "o:company-growth"})
    assert body["response_action"] == "update"
    with slack.session() as s:
        obj = s.scalars(select(Objective).where(Objective.key == "eng-onboarding")).one()
        assert obj.title == "Deliver a superb onboarding"
        assert obj.aligned_objective_id == slack.org.objectives["company-growth"].id


def test_objective_cannot_align_to_itself(slack: Harness) -> None:
    slack.send(slack.req.command("U0ADA", "edit eng-onboarding"))
    view = slack.fake.last_view()
    assert view is not None
    body = submit(slack, "U0ADA", view, {"obj_align": "o:eng-onboarding"})
    assert "itself" in body["errors"]["obj_align"]


def test_home_edit_button_opens_kr_modal(slack: Harness) -> None:
    slack.send(slack.req.button("U0BOB", f"{Action.EDIT_KR}:kr-inc", "kr-inc"))
    assert slack.fake.last_view()["callback_id"] == "okr_edit_kr"  # type: ignore[index]
    slack.send(slack.req.button("U0CY", f"{Action.EDIT_KR}:kr-inc", "kr-inc"))
    assert "cannot" in str(slack.fake.responses()[-1]) or "only" in str(
        slack.fake.responses()[-1])


def test_edit_kr_sets_phased_targets_and_a_milestone_due_date(slack: Harness) -> None:
    assert slack.org.cycle is not None
    start, end = slack.org.cycle.start_date, slack.org.cycle.end_date
    first, second = start + timedelta(days=20), start + timedelta(days=50)
    slack.send(slack.req.command("U0BOB", "edit kr-inc"))
    view = slack.fake.last_view()
    assert view is not None and validate_view(view) == []
    body = submit(slack, "U0BOB", view,
                  {"kr_targets": f"{first.isoformat()} 10\n{second.isoformat()}: 30"})
    assert body["response_action"] == "update"
    slack.send(slack.req.command("U0BOB", "edit kr-ms"))
    ms_view = slack.fake.last_view()
    assert ms_view is not None
    assert submit(slack, "U0BOB", ms_view, {"kr_due": end.isoformat()})[
        "response_action"] == "update"
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "kr-inc")).one()
        assert kr.targets == [{"on": first.isoformat(), "value": 10.0},
                              {"on": second.isoformat(), "value": 30.0}]
        assert s.scalars(select(KeyResult).where(KeyResult.key == "kr-ms")).one() \
            .due_date == end
    # The modal shows them back, one per line.
    slack.send(slack.req.command("U0BOB", "edit kr-inc"))
    again = slack.fake.last_view()
    assert again is not None
    (targets,) = [b for b in again["blocks"] if b.get("block_id") == "kr_targets"]
    assert targets["element"]["initial_value"] == \
        f"{first.isoformat()} 10\n{second.isoformat()} 30"
    assert validate_view(again) == []


@pytest.mark.parametrize(("key", "overrides", "block", "words"), [
    ("kr-inc", {"kr_targets": "2001-01-01 10"}, "kr_targets", "outside FY27-Q1"),
    ("kr-inc", {"kr_targets": "soon 10"}, "kr_targets", "write a date and a value"),
    ("kr-ms", {"kr_targets": "2026-01-01 1"}, "kr_targets", "increase or decrease"),
    ("kr-inc", {"kr_due": "2026-01-01"}, "kr_due", "only milestones"),
])
def test_bad_plan_is_refused_on_its_field(slack: Harness, key: str, overrides: dict[str, Any],
                                          block: str, words: str) -> None:
    slack.send(slack.req.command("U0BOB", f"edit {key}"))
    view = slack.fake.last_view()
    assert view is not None
    body = submit(slack, "U0BOB", view, overrides)
    assert body["response_action"] == "errors"
    assert words in body["errors"][block]
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == key)).one()
        assert (kr.targets, kr.due_date) == (None, None)
