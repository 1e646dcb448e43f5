"""Slack users as people: found by Slack id, created from users.info on first sight."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from app.models import Person
from app.services.errors import InvalidValue
from app.services.tenancy import people

log = logging.getLogger(__name__)


def ensure_person(session: Session, client: WebClient, workspace_id: int, user_id: str,
                  now: datetime, fallback_name: str | None = None, *,
                  strict: bool = False) -> Person:
    """The person with this Slack id, created from users.info if new.

    ``strict`` (for ids typed into forms, which may be forged) refuses ids Slack does not know
    instead of creating a placeholder person.
    """
    person = people.by_slack_id(session=session, workspace_id=workspace_id, slack_id=user_id)
    if person is not None:
        return person
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        if strict:
            raise InvalidValue("pick a person from your workspace", field="owner") from exc
        # Still let them in; a user_change event or a later lookup fills in the details.
        log.warning("slack.users_info_failed",
                    extra={"user": user_id, "slack_error": exc.response.get("error")})
        user = {"id": user_id, "name": fallback_name or user_id}
    return people.upsert_from_slack(session=session, workspace_id=workspace_id, user=user,
                                    now=now)
