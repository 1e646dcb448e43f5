"""First-run teams from Slack: from an empty database and the fake Slack's directory, an admin
creates teams from a user group or a channel in App Home; their members are Slack's at once
and follow it from then on (``members_from``)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select

from app.models import AuditEntry, Person, Team, TeamMember, Workspace
from app.services.tenancy import directory
from blocks.ids import Action, Block
from tests.slack.state import submitted_values
from tests.slack.test_first_run import ADMIN, MEMBER, FirstRun, first_run
from tests.slackreq import json_body

__all__ = ["first_run"]

NAME, CHANNEL, GROUP = (str(Block.SETUP_TEAM_NAME), str(Block.SETUP_TEAM_CHANNEL),
                        str(Block.SETUP_TEAM_GROUP))


def members(h: FirstRun, name: str) -> list[str]:
    with h.factory() as s:
        return sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.name == name)))


def with_directory(h: FirstRun) -> None:
    """Slack's directory, read into people as the install does."""
    h.fake.add_user("U0CAT", name="Cat Coder")
    h.fake.add_user("U0DAN", name="Dan Designer")
    h.fake.add_usergroup("S0WEB", "web", [ADMIN, "U0CAT", "U0DAN"], name="Web team")
    h.fake.add_usergroup("S0OPS", "ops", [MEMBER])
    h.open_home(ADMIN)  # the workspace is bound to its Slack team
    with h.factory() as s:
        ws_id = s.scalars(select(Workspace.id)).one()
    directory.sync(factory=h.factory, workspace_id=ws_id, now=h.now,
                   client=WebClient(token="xoxb-test", base_url=h.fake.api_url))


def team_modal(h: FirstRun) -> dict[str, Any]:
    home = h.open_home(ADMIN)
    assert "Create teams from channels or user groups" in str(home["blocks"])
    h.click(ADMIN, Action.SETUP_NEW_TEAM, home)
    modal = h.fake.last_view()
    assert modal is not None
    return modal


def submit(h: FirstRun, modal: dict[str, Any], **picked: Any) -> dict[str, Any]:
    values = submitted_values(modal, picked)
    return json_body(h.send(h.req.view_submission(ADMIN, modal, values)))


def test_a_team_from_a_user_group_follows_it(first_run: FirstRun) -> None:
    h = first_run
    with_directory(h)
    modal = team_modal(h)
    assert h.fake.calls_to("usergroups.list") == []  # the modal opened without asking
    (group,) = [b["element"] for b in modal["blocks"] if b.get("block_id") == GROUP]
    assert group["type"] == "external_select"
    resp = h.send(h.req.block_suggestion(ADMIN, GROUP, "", block_id=GROUP))
    assert [(o["value"], o["text"]["text"]) for o in json_body(resp)["options"]] == [
        ("S0OPS", "@ops"), ("S0WEB", "@web (Web team)")]
    body = submit(h, modal, **{NAME: "Web", GROUP: "S0WEB"})
    assert body["response_action"] == "update"
    assert "follow the user group <!subteam^S0WEB>" in str(body["view"])
    assert "Team settings" in str(body["view"])  # no channel yet for its digests
    with h.factory() as s:
        team = s.scalars(select(Team)).one()
        assert (team.key, team.channel_id, team.members_from) == (
            "web", None, {"usergroup": "S0WEB"})
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "team.create")).one()
        assert entry.after is not None
        assert entry.after["members_from"] == {"usergroup": "S0WEB"}
    assert members(h, "Web") == [ADMIN, "U0CAT", "U0DAN"]

    # Slack says Dan left the group: he leaves the team.
    h.send(h.req.event({"type": "subteam_members_changed", "subteam_id": "S0WEB",
                        "team_id": h.fake.team_id, "added_users": [],
                        "removed_users": ["U0DAN"]}, event_id="EvWebLeft"))
    assert members(h, "Web") == [ADMIN, "U0CAT"]


def test_a_team_from_a_channel_follows_it(first_run: FirstRun) -> None:
    h = first_run
    with_directory(h)
    h.fake.channel_members["C0PLAT"] = [ADMIN, MEMBER, "U0BOT"]
    body = submit(h, team_modal(h), **{NAME: "Platform",
                                       CHANNEL: {"selected_conversation": "C0PLAT"}})
    assert body["response_action"] == "update" and "/invite" not in str(body["view"])
    assert members(h, "Platform") == [ADMIN, MEMBER]
    h.send(h.req.event({"type": "member_left_channel", "user": MEMBER, "channel": "C0PLAT",
                        "channel_type": "C"}, event_id="EvPlatLeft"))
    assert members(h, "Platform") == [ADMIN]
    # A group and a channel: members follow the group, digests go to the channel.
    body = submit(h, team_modal(h), **{NAME: "Ops", GROUP: "S0OPS",
                                       CHANNEL: {"selected_conversation": "C0PLAT"}})
    with h.factory() as s:
        ops = s.scalars(select(Team).where(Team.name == "Ops")).one()
        assert (ops.channel_id, ops.members_from) == ("C0PLAT", {"usergroup": "S0OPS"})
    assert members(h, "Ops") == [MEMBER]


def test_a_team_needs_a_source_slack_knows(first_run: FirstRun) -> None:
    h = first_run
    with_directory(h)
    modal = team_modal(h)
    body = submit(h, modal, **{NAME: "Nothing"})
    assert body["errors"] == {CHANNEL: "pick a channel or a user group"}
    body = submit(h, modal, **{NAME: "Forged", GROUP: "S0NOPE"})  # not offered by Slack
    assert "no such user group" in body["errors"][GROUP]
    body = submit(h, modal, **{NAME: "Bad", GROUP: "<!channel>"})
    assert body["errors"] == {GROUP: "pick a user group"}
    with h.factory() as s:
        assert s.scalars(select(Team)).all() == []
    # Slack would not list the groups: the id typed into the picker is offered.
    h.fake.fail_next("usergroups.list", "missing_scope")
    resp = h.send(h.req.block_suggestion(ADMIN, GROUP, "s0web", block_id=GROUP))
    assert [o["value"] for o in json_body(resp)["options"]] == ["S0WEB"]
    assert submit(h, modal, **{NAME: "Web", GROUP: "S0WEB"})["response_action"] == "update"
    assert members(h, "Web") == [ADMIN, "U0CAT", "U0DAN"]


def test_inviting_the_bot_brings_the_channel_members(first_run: FirstRun) -> None:
    """A team made from a channel the bot is not in yet (the checklist's step 3) gets its
    members once the bot is invited."""
    h = first_run
    with_directory(h)
    body = submit(h, team_modal(h), **{NAME: "Platform",
                                       CHANNEL: {"selected_conversation": "C0PLAT"}})
    assert "`/invite @okr`" in str(body["view"])
    assert members(h, "Platform") == []
    h.fake.channel_members["C0PLAT"] = [ADMIN, "U0CAT", h.fake.bot_user_id]
    h.send(h.req.event({"type": "member_joined_channel", "user": h.fake.bot_user_id,
                        "channel": "C0PLAT", "channel_type": "C"}, event_id="EvBotIn"))
    assert members(h, "Platform") == [ADMIN, "U0CAT"]
