"""Linear's webhooks: check a delivery is Linear's and fresh, and read its issue's state.

Linear signs each delivery with the webhook's signing secret: ``Linear-Signature`` is the hex
HMAC-SHA256 of the raw body (compared in constant time). The body's ``webhookTimestamp``
(Unix milliseconds) says when it was sent: one more than :data:`MAX_SKEW` from our clock is
refused, so a delivery captured on the way cannot be replayed later. ``Linear-Delivery`` names
the delivery: a redelivery is applied once.

Only ``type: "Issue"`` events carry a state we use (``action`` create, update or remove);
other types (Comment, Project, ...) and actions are answered and ignored. A removed issue is
``deleted``: it leaves its KR's denominator (unless the payload says it was archived, not
trashed: then its state applies as for an update). The issue is named by ``data.identifier``
(``ENG-123``) in the organisation of the payload's ``url``; ``data.updatedAt`` orders events
(an older one arriving late is ignored); ``updatedFrom`` (the previous values of an update)
is not needed: the payload holds the issue as it is now.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from app.services.links import linear_ids
from app.services.links.linear import state_of, url_org
from app.services.links.refs import DELETED, ItemState
from app.services.links.webhooks import BadPayload, parse_time

MAX_SKEW = 60.0  # seconds between webhookTimestamp and our clock
ACTIONS = ("create", "update", "remove")


class Unauthenticated(ValueError):
    """A bad or missing signature, or a delivery too old or too far ahead: not applied."""


def signature(secret: str, raw: bytes) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify(raw: bytes, given: str | None, secret: str) -> None:
    """Raise :class:`Unauthenticated` unless ``given`` is the body's signature."""
    if not given or not hmac.compare_digest(given.strip().lower().encode(),
                                            signature(secret, raw).encode()):
        raise Unauthenticated("Linear-Signature does not match the body and the secret")


def check_fresh(payload: Any, now: datetime) -> None:
    """Refuse a delivery sent more than :data:`MAX_SKEW` seconds from ``now``."""
    stamp = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        raise BadPayload("webhookTimestamp is missing or not a number (milliseconds)")
    try:
        sent = datetime.fromtimestamp(stamp / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadPayload("webhookTimestamp is not a time") from exc
    skew = abs((now - sent).total_seconds())
    if skew > MAX_SKEW:
        raise Unauthenticated(f"webhookTimestamp is {skew:.0f}s from now (more than "
                              f"{MAX_SKEW:.0f}s): a replay, or a clock that is far off")


def issue_item(payload: Any, *, canceled_done: bool = False) -> ItemState | None:
    """The issue of an ``Issue`` event; None for other types and actions."""
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    kind, action = payload.get("type"), payload.get("action")
    if not isinstance(kind, str) or not isinstance(action, str):
        raise BadPayload("type or action is missing")
    if kind != "Issue" or action not in ACTIONS:
        return None
    data = payload.get("data")
    if not isinstance(data, dict):
        raise BadPayload("data is missing or not an object")
    ident = data.get("identifier")
    try:
        team, number = linear_ids.parse_identifier(ident if isinstance(ident, str) else "")
    except linear_ids.BadIdentifier as exc:
        raise BadPayload(f"data.identifier: {exc}") from exc
    org = url_org(payload.get("url")) or url_org(data.get("url"))
    if org is None:
        raise BadPayload("url is missing or not a Linear issue URL "
                         f"({linear_ids.URL_SHAPE})")
    title = data.get("title")
    title = title if isinstance(title, str) else None
    project = linear_ids.project(org, team)
    if action == "remove" and not _archived(data):
        # A removal is final: no later edit can come, so it is never a late delivery.
        return ItemState(linear_ids.PROVIDER, linear_ids.HOST, project, "issue", number,
                         DELETED, title=title)
    state = data.get("state")
    mapped = state_of(state.get("type") if isinstance(state, dict) else None,
                      canceled_done=canceled_done)
    if mapped is None:
        raise BadPayload("data.state.type is missing or not a Linear state type (triage, "
                         "backlog, unstarted, started, completed, canceled)")
    return ItemState(linear_ids.PROVIDER, linear_ids.HOST, project, "issue", number, mapped,
                     parse_time(data.get("updatedAt")), title)


def _archived(data: dict[str, Any]) -> bool:
    """A ``remove`` that archives rather than deletes: ``archivedAt`` set and explicitly not
    ``trashed`` (Linear archives done issues by itself after a while). The issue still
    exists, so it keeps counting as its state says instead of leaving the denominator."""
    return isinstance(data.get("archivedAt"), str) and data.get("trashed") is False
