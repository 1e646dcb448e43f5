"""``POST /webhooks/linear/<hook key>``: a Linear delivery for one workspace's connection.

The connection the key names gives the signing secret and whether a canceled issue counts as
done. Order: the connection (404), the signature (401), the JSON (400), the time it was sent
(401 when more than a minute from our clock), then the event (400 when malformed, ignored
when it is not about an issue). See :mod:`app.services.links.linear_events`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from app.api_errors import ApiError
from app.bootstrap import Container
from app.db import unit_of_work
from app.services.links import connections, linear_events, linear_ids
from app.services.links.refs import ItemState
from app.services.links.webhooks import BadPayload


class Headers(Protocol):
    def get(self, key: str) -> str | None: ...


def event(container: Container, key: str, raw: bytes, headers: Headers,
          now: datetime) -> tuple[int, str, tuple[ItemState | None, str | None]]:
    """(workspace id, host, (item, delivery id)) of a verified delivery; ApiError otherwise."""
    with unit_of_work(container.session_factory) as session:
        conn = connections.by_hook_key(session=session, settings=container.settings,
                                       provider=linear_ids.PROVIDER, key=key)
    if conn is None or not conn.webhook_secret or conn.workspace_id is None:
        raise ApiError(404, "no tracker connection has this webhook URL")
    try:
        linear_events.verify(raw, headers.get("Linear-Signature"), conn.webhook_secret)
        payload = _decode(raw)
        linear_events.check_fresh(payload, now)
        item = linear_events.issue_item(payload, canceled_done=conn.canceled_done)
    except linear_events.Unauthenticated as exc:
        raise ApiError(401, str(exc)) from exc
    except BadPayload as exc:
        raise ApiError(400, str(exc)) from exc
    return conn.workspace_id, conn.host, (item, headers.get("Linear-Delivery"))


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "the body is not valid JSON") from exc
