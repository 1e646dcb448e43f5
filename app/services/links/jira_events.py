"""Jira's issue JSON and webhook deliveries, read into an item state. Pure (no I/O).

The same issue representation comes in webhooks (``issue``) and from the REST API
(``GET /rest/api/3/issue/{key}``, the search): ``key`` (``PAY-123``) and ``fields`` with
``status.statusCategory.key`` (``new`` | ``indeterminate`` | ``done``), ``summary`` and
``updated`` (``2026-03-02T09:00:00.000+0000``). An issue whose status is in the ``done``
category is closed, whatever the workflow calls the status.

Webhooks (``webhookEvent``): ``jira:issue_created`` and ``jira:issue_updated`` carry the
issue; an update is read only when its ``changelog.items`` change the status or the
resolution (an edit of the summary or a comment says nothing about the state: ignored).
``jira:issue_deleted`` takes the issue out of its KR's denominator. Other events are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from app.services.links import jira_keys
from app.services.links.refs import DELETED, ItemState
from app.services.links.webhooks import BadPayload

EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
STATE_FIELDS = frozenset({"status", "resolution"})
# Jira writes offsets without a colon (+0000, +1100); fromisoformat wants +00:00.
_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_time(value: Any) -> datetime | None:
    """Jira's ``2026-03-02T09:00:00.000+0000`` (or any ISO-8601 time with an offset)."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = _OFFSET.sub(r"\1:\2", value.strip().replace("Z", "+00:00"))
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def _obj(data: Any, key: str, where: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise BadPayload(f"{where}{key} is missing or not an object")
    return value


def _key(issue: dict[str, Any], where: str) -> tuple[str, int]:
    value = issue.get("key")
    if not isinstance(value, str):
        raise BadPayload(f"{where}key is missing or not a string")
    try:
        return jira_keys.parse_key(value)
    except jira_keys.BadKey as exc:
        raise BadPayload(f"{where}key: {exc}") from exc


def done(fields: dict[str, Any], where: str) -> bool:
    """Whether the issue's status is in Jira's ``done`` category."""
    status = _obj(fields, "status", where)
    category = _obj(status, "statusCategory", f"{where}status.")
    value = category.get("key")
    if not isinstance(value, str) or not value:
        raise BadPayload(f"{where}status.statusCategory.key is missing or not a string")
    return value == "done"


def issue_state(issue: Any, *, host: str, where: str = "issue.") -> ItemState:
    """The state of one issue as Jira represents it; :class:`BadPayload` when it is not."""
    if not isinstance(issue, dict):
        raise BadPayload(f"{where.rstrip('.')} is missing or not an object")
    project, number = _key(issue, where)
    fields = _obj(issue, "fields", where)
    summary = fields.get("summary")
    return ItemState("jira", host, project, "issue", number,
                     "closed" if done(fields, f"{where}fields.") else "open",
                     parse_time(fields.get("updated")),
                     summary if isinstance(summary, str) else None)


def _changes_state(payload: dict[str, Any]) -> bool:
    changelog = payload.get("changelog")
    if changelog is None:
        return False  # a comment or a link: no field changed
    if not isinstance(changelog, dict) or not isinstance(changelog.get("items", []), list):
        raise BadPayload("changelog.items is not a list")
    for entry in changelog.get("items", []):
        if not isinstance(entry, dict):
            raise BadPayload("changelog.items holds something that is not an object")
        names = {str(entry.get(k) or "").lower() for k in ("field", "fieldId")}
        if names & STATE_FIELDS:
            return True
    return False


def jira_item(payload: Any, *, host: str) -> ItemState | None:
    """The issue of a delivery to the connection for ``host``; None for an event or an
    update that says nothing about an issue's state."""
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise BadPayload("webhookEvent is missing")
    if event not in EVENTS:
        return None
    issue = _obj(payload, "issue", "")
    if event == "jira:issue_deleted":
        project, number = _key(issue, "issue.")
        fields = issue.get("fields")
        summary = fields.get("summary") if isinstance(fields, dict) else None
        # A deletion is final: no later edit can come, so it is never a late delivery.
        return ItemState("jira", host, project, "issue", number, DELETED,
                         title=summary if isinstance(summary, str) else None)
    if event == "jira:issue_updated" and not _changes_state(payload):
        return None
    return issue_state(issue, host=host)
