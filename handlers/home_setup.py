"""The first-run checklist's facts for someone's Home: the workspace's setup state from the
service, and from Slack whether the bot is in each team channel and what to type to invite it.

Kept apart from handlers/setup.py (its buttons and modal) so handlers/home.py can use it
without importing the listeners that refresh the Home.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.config import Settings
from app.services.tenancy import setup
from app.services.tx import Tx
from blocks.home_setup import SetupView, TeamChannel

log = logging.getLogger(__name__)

# conversations.info's answers meaning "the bot cannot see this channel": not in it.
_NOT_IN = frozenset({"not_in_channel", "channel_not_found"})


def bot_in_channel(client: WebClient, channel_id: str) -> bool | None:
    """Whether the bot is a member of the channel (None when Slack could not say)."""
    try:
        resp = client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") in _NOT_IN:
            return False
        log.warning("setup.channel_info_failed",
                    extra={"channel": channel_id, "slack_error": exc.response.get("error")})
        return None
    return bool((resp.get("channel") or {}).get("is_member"))


def bot_name(client: WebClient) -> str:
    try:
        return str(client.auth_test().get("user") or "okr")
    except SlackApiError:
        return "okr"


def setup_view(client: WebClient, tx: Tx, workspace_id: int, person_id: int, now: datetime,
               settings: Settings) -> SetupView | None:
    """The checklist for this person, or None once the workspace has a cycle and a team."""
    found = setup.facts(session=tx, workspace_id=workspace_id, person_id=person_id, now=now,
                        admin_slack_ids=settings.admins)
    if not found.needed:
        return None
    teams: list[TeamChannel] = []
    name = "okr"
    if found.is_admin:
        teams = [TeamChannel(n, c, bot_in_channel(client, c) if c else None)
                 for n, c in found.team_channels]
        name = bot_name(client)
    return SetupView(is_admin=found.is_admin, admin_slack_ids=found.admin_slack_ids,
                     cycle_name=found.cycle_name, suggested=found.suggested, teams=teams,
                     bot_name=name, test_prompt_sent=found.test_prompt_sent)
