"""Each /okr subcommand through the real Bolt app against the fake Slack."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Person
from tests.fixtures.slack import Harness
from tests.slackreq import json_body


def text_of(body: dict[str, object]) -> str:
    return str(body.get("text", "")) + str(body.get("blocks", ""))


def test_unknown_subcommand_shows_help(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "frobnicate")
    assert "I don't know `frobnicate`" in text_of(body)
    for name in ("checkin", "mine", "list", "show", "new", "edit", "cycle", "away", "back"):
        assert f"/okr {name}" in text_of(body)


def test_empty_text_shows_help(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "")
    assert "Here is what `/okr` can do" in text_of(body)
    assert body.get("response_type", "ephemeral") == "ephemeral"


def test_mine_lists_my_krs_only(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "mine")
    out = text_of(body)
    assert "Grow activation" in out and "Docs coverage" in out
    assert "Fix onboarding bugs" not in out  # Cy's KR
    assert "Secret KR" not in out


def test_mine_for_objective_owner_shows_all_krs(slack: Harness) -> None:
    _, body = slack.command("U0ADA", "mine")
    out = text_of(body)
    assert "Fix onboarding bugs" in out and "A private plan" in out


def test_list_all_hides_private_from_others(slack: Harness) -> None:
    _, body = slack.command("U0CY", "list")
    out = text_of(body)
    assert "Deliver a great onboarding" in out and "Grow the company" in out
    assert "A private plan" not in out


def test_list_private_visible_to_lead_and_admin(slack: Harness) -> None:
    _, lead = slack.command("U0ADA", "list")
    _, admin = slack.command("U0DEE", "list")
    assert "A private plan" in text_of(lead) and "A private plan" in text_of(admin)


@pytest.mark.parametrize(("args", "present", "absent"), [
    ("<@U0CY|cy>", "Deliver a great onboarding", "Grow the company"),
    ("@Dee", "Grow the company", "Deliver a great onboarding"),
    ("<#C0ENG|eng>", "Deliver a great onboarding", "Grow the company"),
    ("Engineering", "Deliver a great onboarding", "Grow the company"),
    ("company", "Grow the company", "Deliver a great onboarding"),
    ("FY27-Q1", "Grow the company", "A private plan"),
])
def test_list_filters(slack: Harness, args: str, present: str, absent: str) -> None:
    _, body = slack.command("U0BOB", f"list {args}")
    assert present in text_of(body)
    assert absent not in text_of(body)


def test_list_at_risk(slack: Harness) -> None:
    # A month into the cycle with nothing done: everything is behind pace.
    _, body = slack.command("U0BOB", "list at-risk")
    assert "Deliver a great onboarding" in text_of(body)


def test_list_unknown_word_is_explained(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "list marketing")
    assert "I don't know a team, person or cycle called “marketing”" in body["text"]


def test_show_objective_kr_and_words(slack: Harness) -> None:
    _, obj = slack.command("U0BOB", "show eng-onboarding")
    assert "Deliver a great onboarding" in text_of(obj) and "Cut time to value" in text_of(obj)
    _, kr = slack.command("U0BOB", "show kr-inc")
    assert "Grow activation" in text_of(kr) and "No check-ins yet" in text_of(kr)
    _, words = slack.command("U0BOB", "show grow the company")
    assert "Revenue" in text_of(words)


def test_show_private_is_not_found_for_others(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "show ada-secret")
    assert "nothing called `ada-secret`" in body["text"]
    _, kr = slack.command("U0BOB", "show kr-secret")
    assert "Secret KR" not in text_of(kr)


def test_show_without_argument(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "show")
    assert "What should I show?" in body["text"]


def test_cycle_shows_phase_dates_and_days_left(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "cycle")
    out = text_of(body)
    assert "FY27-Q1" in out and "active phase" in out and "59 days left" in out
    assert "Key dates" in out and "Halfway" in out


def test_cycle_unknown_name(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "cycle FY99-Q9")
    assert "no cycle named 'FY99-Q9'" in body["text"]


def test_away_and_back(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "away 20 Mar")
    assert "No check-in prompts" in body["text"]
    with slack.session() as s:
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        assert bob.away_until == date(2026, 3, 20)
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "person.away"))
    assert "away until" in str(slack.fake.home("U0BOB"))
    _, body = slack.command("U0BOB", "back")
    assert "Welcome back" in body["text"]
    with slack.session() as s:
        assert s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one().away_until is None


@pytest.mark.parametrize("text", ["away", "away someday", "away 2026-02-30", "away 2020-01-01",
                                  "away 2029-01-01"])
def test_away_bad_dates_change_nothing(slack: Harness, text: str) -> None:
    _, body = slack.command("U0BOB", text)
    assert body["text"].startswith(":warning:")
    with slack.session() as s:
        assert s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one().away_until is None


def test_back_when_not_away(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "back")
    assert "were not marked away" in body["text"]


def test_checkin_opens_modal_with_my_open_krs(slack: Harness) -> None:
    slack.command("U0CY", "checkin")
    view = slack.fake.last_view()
    assert view is not None and "Fix onboarding bugs" in str(view["blocks"])
    assert "Grow activation" not in str(view["blocks"])


def test_checkin_without_krs_says_so(slack: Harness) -> None:
    slack.fake.add_user("U0NEW", name="Newbie")
    slack.command("U0NEW", "checkin")
    view = slack.fake.last_view()
    assert view is not None and "no open key results" in str(view["blocks"])


def test_new_opens_creation_modal(slack: Harness) -> None:
    slack.command("U0BOB", "new")
    view = slack.fake.last_view()
    assert view is not None and view["callback_id"] == "okr_new_objective"
    align = next(b for b in view["blocks"] if b.get("block_id") == "obj_align")
    assert align["element"]["type"] == "external_select"


def test_edit_opens_modal_for_owner_and_refuses_others(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "edit kr-inc")
    assert body == {} or "text" not in body
    assert slack.fake.last_view()["callback_id"] == "okr_edit_kr"  # type: ignore[index]
    _, refused = slack.command("U0CY", "edit kr-inc")
    assert refused["text"].startswith(":no_entry:")
    _, obj = slack.command("U0BOB", "edit eng-onboarding")
    assert obj["text"].startswith(":no_entry:")
    _, missing = slack.command("U0BOB", "edit nope")
    assert "no objective or key result `nope`" in missing["text"]
    _, bare = slack.command("U0BOB", "edit")
    assert "Which one?" in bare["text"]


def test_new_user_is_created_from_users_info(slack: Harness) -> None:
    slack.fake.add_user("U0EVE", name="Eve", tz="America/New_York")
    slack.command("U0EVE", "mine")
    with slack.session() as s:
        eve = s.scalars(select(Person).where(Person.slack_id == "U0EVE")).one()
        assert eve.name == "Eve" and eve.tz == "America/New_York"
    assert len(slack.fake.calls_to("users.info")) == 1
    slack.command("U0EVE", "mine")
    assert len(slack.fake.calls_to("users.info")) == 1


def test_users_info_failure_still_answers(slack: Harness) -> None:
    slack.fake.fail_next("users.info", "user_not_found")
    _, body = slack.command("U0GHOST", "help")
    assert "Here is what" in body["text"]


def test_share_posts_for_the_channel(slack: Harness) -> None:
    _, body = slack.command("U0BOB", "show kr-inc share")
    assert body["response_type"] == "in_channel" and "Grow activation" in text_of(body)
    _, private = slack.command("U0BOB", "show kr-inc")
    assert private["response_type"] == "ephemeral"
    _, error = slack.command("U0BOB", "show nothing-here share")
    assert error["response_type"] == "ephemeral"


def test_other_workspace_sees_nothing_of_ours(slack: Harness) -> None:
    other = slack.req.__class__(slack.req.verifier.signing_secret, team_id="T0OTHER",
                                response_base=slack.fake.base_url)
    body = json_body(slack.send(other.command("U0BOB", "show kr-inc")))
    assert "Grow activation" not in text_of(body) and "not set up" in text_of(body)
    body = json_body(slack.send(other.command("U0BOB", "list")))
    assert "Deliver a great onboarding" not in text_of(body)
    view = {"id": "VX", "type": "modal", "callback_id": "okr_checkin", "private_metadata": "",
            "blocks": []}
    forged = {"ci_value:kr-inc": {"a": {"type": "number_input", "value": "9"}},
              "ci_status:kr-inc": {"a": {"type": "radio_buttons",
                                         "selected_option": {"value": "green"}}}}
    resp = slack.send(other.view_submission("U0BOB", view, forged))
    assert resp.status == 200 and json_body(resp) == {}  # refused: nothing to retry
    assert slack.checkins("kr-inc") == []


def test_rate_limited_users_info_does_not_hold_the_ack(slack: Harness) -> None:
    slack.fake.add_user("U0NEW", name="New")
    slack.fake.rate_limit_next("users.info", count=1, retry_after=30)
    started = time.monotonic()
    _, body = slack.command("U0NEW", "help")
    assert time.monotonic() - started < 2 and "Here is what" in body["text"]
    with slack.session() as s:
        assert s.scalars(select(Person).where(Person.slack_id == "U0NEW")).one().name == "u0new"
