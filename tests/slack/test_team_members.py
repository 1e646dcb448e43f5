"""The team settings modal's members source, through the real Bolt app and the fake Slack:
by hand, a channel or a user group (found by typing: usergroups.list); checked with Slack before
it is stored (inline errors, nothing changed); saving makes the members Slack's at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import AuditEntry, KeyResult, Person, Team, TeamMember
from blocks.ids import Action, Block
from tests.fixtures.slack import Harness, rollback_factory, slack
from tests.slack.blockkit import validate_options, validate_view
from tests.slack.state import submitted_values
from tests.slackreq import json_body

__all__ = ["rollback_factory", "slack"]

KIND, CHANNEL, GROUP = (str(Block.SET_MEMBERS_KIND), str(Block.SET_MEMBERS_CHANNEL),
                        str(Block.SET_MEMBERS_GROUP))


def members(slack: Harness, team: str = "eng") -> list[str]:
    with slack.session() as s:
        return sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.key == team)))


def source(slack: Harness, team: str = "eng") -> Any:
    with slack.session() as s:
        return s.scalars(select(Team.members_from).where(Team.key == team)).one()


def audits(slack: Harness, action: str) -> list[AuditEntry]:
    with slack.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def open_team(slack: Harness, user: str = "U0ADA", key: str = "eng") -> dict[str, Any]:
    before = len(slack.fake.calls_to("views.open"))
    slack.send(slack.req.button(user, f"{Action.OPEN_TEAM_SETTINGS}:{key}", key))
    calls = slack.fake.calls_to("views.open")
    assert len(calls) > before, "the team settings did not open"
    view = calls[-1].response["view"]
    validate_view(view)
    return dict(view)


def element(view: dict[str, Any], block: str) -> dict[str, Any]:
    (found,) = [b["element"] for b in view["blocks"] if b.get("block_id") == block]
    return dict(found)


def group_options(slack: Harness, typed: str, user: str = "U0ADA") -> list[tuple[str, str]]:
    """What the user group picker offers when ``typed`` is typed into it."""
    body = json_body(slack.send(slack.req.block_suggestion(user, GROUP, typed, block_id=GROUP)))
    assert validate_options(body) == []
    return [(o["value"], o["text"]["text"]) for o in body["options"]]


def submit(slack: Harness, view: dict[str, Any], user: str = "U0ADA",
           **overrides: Any) -> dict[str, Any]:
    values = submitted_values(view, overrides)
    return json_body(slack.send(slack.req.view_submission(user, view, values)))


def directory(slack: Harness) -> None:
    slack.fake.channel_members["C0ENG"] = ["U0ADA", "U0BOB", "U0DEE", "U0BOT"]
    slack.fake.add_usergroup("S0WEB", "web-team", ["U0CY", "U0DEE", "U0ZED"], name="Web team")
    slack.fake.add_usergroup("S0OPS", "ops", ["U0BOB"])


def test_a_lead_makes_the_team_follow_a_channel_then_a_group(slack: Harness) -> None:
    directory(slack)
    view = open_team(slack)
    assert element(view, KIND)["initial_option"]["value"] == "none"
    # Nothing was asked of Slack before the modal opened: its 3 s trigger is for views.open.
    assert slack.fake.calls_to("usergroups.list") == []
    group = element(view, GROUP)
    assert group["type"] == "external_select" and "initial_option" not in group
    assert group_options(slack, "") == [("S0OPS", "@ops"), ("S0WEB", "@web-team (Web team)")]
    assert group_options(slack, "web") == [("S0WEB", "@web-team (Web team)")]
    assert group_options(slack, "@OPS") == [("S0OPS", "@ops")]
    assert group_options(slack, "nothing like it") == []

    body = submit(slack, view, **{KIND: "channel", CHANNEL: "C0ENG"})
    assert "response_action" not in body, body
    assert source(slack) == {"channel": "C0ENG"}
    assert members(slack) == ["U0ADA", "U0BOB", "U0DEE"]  # Cy left, Dee joined; no bot
    (entry,) = audits(slack, "settings.team")
    assert (entry.actor_label, entry.before, entry.after) == (
        "slack:U0ADA", {"members_from": None}, {"members_from": {"channel": "C0ENG"}})
    assert [a.actor_label for a in audits(slack, "team.remove")] == ["slack-sync"]
    with slack.session() as s:  # Cy's key result stays Cy's
        assert s.scalar(select(Person.slack_id).join(KeyResult, KeyResult.owner_id == Person.id)
                        .where(KeyResult.key == "kr-cy")) == "U0CY"

    view = open_team(slack)
    assert element(view, KIND)["initial_option"]["value"] == "channel"
    assert element(view, CHANNEL)["initial_conversation"] == "C0ENG"
    body = submit(slack, view, **{KIND: "usergroup", GROUP: "S0WEB"})
    assert "response_action" not in body, body
    assert source(slack) == {"usergroup": "S0WEB"}
    assert members(slack) == ["U0CY", "U0DEE"]  # U0ZED is not known here yet
    view = open_team(slack)
    assert element(view, GROUP)["initial_option"] == {
        "text": {"type": "plain_text", "text": "The current group (S0WEB)", "emoji": True},
        "value": "S0WEB"}

    # From then on the group's changes reach the team.
    slack.send(slack.req.event({
        "type": "subteam_members_changed", "subteam_id": "S0WEB", "team_id": "T0TEST",
        "added_users": [], "removed_users": ["U0DEE"]}, event_id="EvWeb1"))
    assert members(slack) == ["U0CY"]


def test_back_to_by_hand_keeps_the_members(slack: Harness) -> None:
    directory(slack)
    submit(slack, open_team(slack), **{KIND: "channel", CHANNEL: "C0ENG"})
    body = submit(slack, open_team(slack), **{KIND: "none"})
    assert "response_action" not in body
    assert source(slack) is None and members(slack) == ["U0ADA", "U0BOB", "U0DEE"]
    slack.fake.channel_members["C0ENG"] = ["U0ADA"]
    slack.send(slack.req.event({"type": "member_left_channel", "user": "U0BOB",
                                "channel": "C0ENG", "channel_type": "C"}, event_id="EvLeftB"))
    assert members(slack) == ["U0ADA", "U0BOB", "U0DEE"]


def test_a_source_slack_cannot_list_is_refused_inline(slack: Harness) -> None:
    directory(slack)
    view = open_team(slack)
    cases = [
        ({KIND: "channel", CHANNEL: "C0PRIV"}, CHANNEL, "the app cannot see that channel"),
        ({KIND: "channel"}, CHANNEL, "pick a channel"),
        ({KIND: "usergroup", GROUP: "S0NOPE"}, GROUP, "no such user group"),  # forged
        ({KIND: "usergroup", GROUP: "<!here>"}, GROUP, "pick a user group"),
        ({KIND: "everyone"}, KIND, "pick where the members come from"),
    ]
    for overrides, block, text in cases:
        body = submit(slack, view, **overrides)
        assert body["response_action"] == "errors", overrides
        assert text in body["errors"][block], body
    slack.fake.fail_next("conversations.members", "missing_scope")
    body = submit(slack, view, **{KIND: "channel", CHANNEL: "C0ENG"})
    assert "reinstall the app" in body["errors"][CHANNEL]
    assert source(slack) is None and members(slack) == ["U0ADA", "U0BOB", "U0CY"]
    assert audits(slack, "settings.team") == []
    # A member who does not lead the team cannot set it, whatever they send.
    body = submit(slack, view, user="U0BOB", **{KIND: "channel", CHANNEL: "C0ENG"})
    assert body["response_action"] == "errors" and source(slack) is None


def test_without_usergroups_list_the_group_id_is_typed(slack: Harness) -> None:
    directory(slack)
    view = open_team(slack)
    slack.fake.fail_next("usergroups.list", "missing_scope")
    assert group_options(slack, " s0ops ") == [("S0OPS", "The group with id S0OPS")]
    slack.fake.fail_next("usergroups.list", "missing_scope")
    assert group_options(slack, "ops") == [
        ("-", "Slack did not list groups: type a group id (S…)")]
    body = submit(slack, view, **{KIND: "usergroup", GROUP: "-"})
    assert body["response_action"] == "errors" and "pick a user group" in body["errors"][GROUP]
    assert source(slack) is None
    body = submit(slack, view, **{KIND: "usergroup", GROUP: "S0OPS"})
    assert "response_action" not in body, body
    assert source(slack) == {"usergroup": "S0OPS"} and members(slack) == ["U0BOB"]
