"""Team membership from Slack: /okr team add|remove|lead, and teams following a channel or a
user group (member events and the refresh), through the real Bolt app and the fake Slack."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy import select, update

from app.models import AuditEntry, KeyResult, Person, Team, TeamMember
from app.services.tenancy import teams_sync
from tests.fixtures.slack import Harness


def client(slack: Harness) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.fake.api_url)


def kr_owner(slack: Harness, key: str) -> str | None:
    with slack.session() as s:
        return s.scalar(select(Person.slack_id).join(KeyResult, KeyResult.owner_id == Person.id)
                        .where(KeyResult.key == key))


def members(slack: Harness, team: str = "eng") -> list[str]:
    with slack.session() as s:
        return sorted(s.scalars(select(Person.slack_id).join(
            TeamMember, TeamMember.person_id == Person.id).join(
            Team, Team.id == TeamMember.team_id).where(Team.key == team)))


def audits(slack: Harness, action: str) -> list[AuditEntry]:
    with slack.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def follow(slack: Harness, team: str, source: dict[str, str]) -> None:
    with slack.session() as s:
        s.execute(update(Team).where(Team.key == team).values(members_from=source))
        s.commit()


def add_person(slack: Harness, slack_id: str, name: str) -> None:
    with slack.session() as s:
        s.add(Person(workspace_id=slack.org.workspace.id, slack_id=slack_id, name=name,
                     tz="UTC", active=True, created_at=slack.now))
        s.commit()


# By hand: /okr team add | remove | lead

def test_lead_adds_and_removes_members(slack: Harness) -> None:
    _, body = slack.command("U0ADA", "team add <@U0DEE|dee> eng")
    assert "Added <@U0DEE>" in body["text"] and "Engineering" in body["text"]
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY", "U0DEE"]
    _, body = slack.command("U0ADA", "team remove <@U0CY|cy> Engineering")
    assert "Removed <@U0CY>" in body["text"]
    assert members(slack) == ["U0ADA", "U0BOB", "U0DEE"]
    assert kr_owner(slack, "kr-cy") == "U0CY"  # history stays
    added, removed = audits(slack, "team.add"), audits(slack, "team.remove")
    assert [(a.actor_label, a.subject_key, a.after) for a in added] == [
        ("slack:U0ADA", "eng", {"members": ["U0DEE"]})]
    assert [(a.subject_key, a.before) for a in removed] == [("eng", {"members": ["U0CY"]})]


def test_admin_sets_a_lead_of_a_team_above(slack: Harness) -> None:
    _, body = slack.command("U0DEE", "team lead <@U0BOB|bob> company")
    assert "now leads *Company*" in body["text"]
    with slack.session() as s:
        company = s.scalars(select(Team).where(Team.key == "company")).one()
        assert company.lead_id == s.scalar(select(Person.id).where(Person.slack_id == "U0BOB"))
    assert [(a.before, a.after) for a in audits(slack, "team.lead")] == [
        ({"lead": None}, {"lead": "U0BOB"})]
    # Bob now leads the company, so the team below it is his to change too.
    slack.command("U0BOB", "team remove <@U0CY> eng")
    assert "U0CY" not in members(slack)


def test_a_plain_member_is_refused(slack: Harness) -> None:
    for text in ("team add <@U0DEE> eng", "team remove <@U0ADA> eng", "team lead <@U0BOB> eng"):
        _, body = slack.command("U0BOB", text)
        assert "only the lead of Engineering" in body["text"], text
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]
    assert audits(slack, "team.add") == audits(slack, "team.remove") == []
    # Ada leads eng, not the company above it.
    _, body = slack.command("U0ADA", "team add <@U0DEE> company")
    assert "only the lead of Company" in body["text"]


def test_bad_input_gets_a_clear_escaped_line(slack: Harness) -> None:
    _, body = slack.command("U0ADA", "team add eng")
    assert "Usage: `/okr team add" in body["text"]
    _, body = slack.command("U0ADA", "team add <@U0DEE> <!channel> &lt;b&gt;")
    assert "<!channel>" not in body["text"] and "no team" in body["text"]
    _, body = slack.command("U0ADA", "team add <@U0NEW|new> eng")
    assert "Not known here yet" in body["text"] and "<@U0NEW>" in body["text"]
    _, body = slack.command("U0ADA", "team lead <@U0BOB> <@U0CY> eng")
    assert "one lead" in body["text"]
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]


# Following Slack

def test_a_member_leaving_the_channel_leaves_the_team(slack: Harness) -> None:
    follow(slack, "eng", {"channel": "C0ENG"})
    before = len(slack.checkins())
    slack.send(slack.req.event({"type": "member_left_channel", "user": "U0CY",
                                "channel": "C0ENG", "channel_type": "C",
                                "team": "T0TEST"}, event_id="EvLeft1"))
    assert members(slack) == ["U0ADA", "U0BOB"]
    assert len(slack.checkins()) == before
    assert [(a.actor_label, a.before) for a in audits(slack, "team.remove")] == [
        ("slack-sync", {"members": ["U0CY"]})]
    # Joining again brings them back; another channel changes nothing.
    slack.send(slack.req.event({"type": "member_joined_channel", "user": "U0CY",
                                "channel": "C0ENG", "channel_type": "C"}, event_id="EvJoin1"))
    slack.send(slack.req.event({"type": "member_left_channel", "user": "U0BOB",
                                "channel": "C0OTHER", "channel_type": "C"}, event_id="EvLeft2"))
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]


def test_leaving_a_channel_no_team_follows_changes_nothing(slack: Harness) -> None:
    # eng posts to C0ENG but keeps its members by hand.
    slack.send(slack.req.event({"type": "member_left_channel", "user": "U0CY",
                                "channel": "C0ENG", "channel_type": "C"}, event_id="EvLeft3"))
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]


def test_a_user_group_change_updates_membership(slack: Harness) -> None:
    follow(slack, "company", {"usergroup": "S0ALL"})
    slack.send(slack.req.event({
        "type": "subteam_members_changed", "subteam_id": "S0ALL", "team_id": "T0TEST",
        "added_users": ["U0ADA", "U0DEE", "U0NEW"], "added_users_count": "3",
        "removed_users": [], "removed_users_count": "0"}, event_id="EvGroup1"))
    assert members(slack, "company") == ["U0ADA", "U0DEE"]
    slack.send(slack.req.event({
        "type": "subteam_members_changed", "subteam_id": "S0ALL", "team_id": "T0TEST",
        "added_users": [], "removed_users": ["U0DEE"]}, event_id="EvGroup2"))
    assert members(slack, "company") == ["U0ADA"]
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]


def test_refresh_matches_slack(slack: Harness) -> None:
    follow(slack, "eng", {"channel": "C0ENG"})
    follow(slack, "company", {"usergroup": "S0ALL"})
    add_person(slack, "U0EVE", "Eve")
    # More than one page of channel members, with people not known here.
    slack.fake.channel_members["C0ENG"] = ["U0ADA", "U0EVE"] + [f"U0X{i:03d}" for i in range(250)]
    slack.fake.usergroups["S0ALL"] = ["U0DEE", "U0BOB"]
    with slack.session() as s:
        report = teams_sync.refresh(s, client(slack), slack.org.workspace.id,
                                    now=slack.now)
        s.commit()
    assert (report.teams, report.added, report.removed, report.unknown) == (2, 3, 2, 250)
    assert members(slack) == ["U0ADA", "U0EVE"]
    assert members(slack, "company") == ["U0BOB", "U0DEE"]
    assert len(slack.fake.calls_to("conversations.members")) == 2
    assert len(audits(slack, "team.add")) == 2 and len(audits(slack, "team.remove")) == 1
    assert kr_owner(slack, "kr-cy") == "U0CY"  # Cy left the team, not the key result


def test_refresh_keeps_members_when_slack_refuses(slack: Harness) -> None:
    follow(slack, "eng", {"channel": "C0GONE"})
    with slack.session() as s:
        report = teams_sync.refresh(s, client(slack), slack.org.workspace.id,
                                    now=slack.now)
        s.commit()
    assert report.failed == ["eng"] and report.teams == 0
    assert members(slack) == ["U0ADA", "U0BOB", "U0CY"]
