"""The manifest asks for exactly the scopes the code uses, and points at our routes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.slack import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[2]
# Web API methods (as WebClient method names) and the bot scopes they need.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"}, "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"}, "chat_delete": {"chat:write"},
    "users_info": {"users:read"},
    # The directory sync keeps emails: profile.email needs users:read.email.
    "users_list": {"users:read", "users:read.email"},
    "users_lookupByEmail": {"users:read.email"},
    "conversations_open": {"im:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "conversations_info": {"channels:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "usergroups_users_list": {"usergroups:read"}, "usergroups_list": {"usergroups:read"},
    "files_upload_v2": {"files:write"},
    "views_open": set(), "views_update": set(), "views_push": set(), "views_publish": set(),
    "auth_test": set(), "auth_revoke": set(), "api_call": set(),
}
# Bot events and the scopes Slack requires to send them.
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(), "message.im": {"im:history"}, "app_uninstalled": set(),
    "tokens_revoked": set(), "team_join": {"users:read"}, "user_change": {"users:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "member_left_channel": {"channels:read", "groups:read"},
    "subteam_members_changed": {"usergroups:read"},
}
CALL = re.compile(r"\bclient\.([a-z]+_[A-Za-z0-9_]+)\(")
LISTENER = re.compile(r"\bapp\.event\(\"([a-z_.]+)\"")


def manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())  # type: ignore[no-any-return]


def used_scopes() -> set[str]:
    """Scopes of the Web API methods the code calls and of the events the manifest asks for."""
    needed = {"commands"}
    for package in ("app", "handlers", "scheduler"):
        for path in (ROOT / package).rglob("*.py"):
            for method in CALL.findall(path.read_text()):
                assert method in METHOD_SCOPES, f"{path}: unknown Web API method {method}"
                needed |= METHOD_SCOPES[method]
    for event in manifest()["settings"]["event_subscriptions"]["bot_events"]:
        assert event in EVENT_SCOPES, f"manifest.yaml: unknown bot event {event}"
        needed |= EVENT_SCOPES[event]
    return needed


def listened_events() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "handlers").rglob("*.py"):
        found |= set(LISTENER.findall(path.read_text()))
    return found


def test_scopes_are_exactly_those_used() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes == set(BOT_SCOPES)
    assert scopes == used_scopes()


def test_urls_and_events() -> None:
    m = manifest()
    command = m["features"]["slash_commands"][0]
    assert command["command"] == "/okr" and command["url"].endswith("/slack/events")
    assert command["should_escape"] is True
    assert m["settings"]["interactivity"]["message_menu_options_url"].endswith("/slack/events")
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert events == {
        "app_home_opened", "message.im", "user_change", "app_uninstalled", "tokens_revoked",
        "team_join", "member_joined_channel", "member_left_channel", "subteam_members_changed"}
    # Every event a listener waits for is subscribed to ("message" arrives as message.im).
    assert listened_events() - {"message"} <= events
    # People write check-ins in the DM: the Messages tab must accept them.
    assert m["features"]["app_home"]["messages_tab_enabled"] is True
    assert m["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    assert m["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert m["features"]["app_home"]["home_tab_enabled"] is True
