"""Slack users as people: found by Slack id, created from users.info on first sight."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.config import Settings
from app.services.errors import InvalidValue
from app.services.tenancy import actors
from app.services.tenancy.actors import Actor
from app.services.tx import Tx

log = logging.getLogger(__name__)


def ensure_person(tx: Tx, client: WebClient, workspace_id: int, user_id: str, now: datetime,
                  settings: Settings, fallback_name: str | None = None, *,
                  strict: bool = False) -> Actor:
    """The person with this Slack id, created from users.info if new.

    ``strict`` (for ids typed into forms, which may be forged) refuses ids Slack does not know
    instead of creating a placeholder person.
    """
    known = actors.find(session=tx, workspace_id=workspace_id, slack_id=user_id,
                        settings=settings)
    if known is not None:
        return known
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        if strict:
            raise InvalidValue("pick a person from your workspace", field="owner") from exc
        # Still let them in; a user_change event or a later lookup fills in the details.
        log.warning("slack.users_info_failed",
                    extra={"user": user_id, "slack_error": exc.response.get("error")})
        user = {"id": user_id, "name": fallback_name or user_id}
    return actors.from_slack_user(session=tx, workspace_id=workspace_id, user=user, now=now,
                                  settings=settings)
