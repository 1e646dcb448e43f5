"""Webhook deliveries from GitLab and GitHub: read the payload, apply it once.

Parsing is pure: :func:`gitlab_item` and :func:`github_item` turn a decoded payload into an
:class:`~app.services.links.ItemState` or raise :class:`BadPayload` with the reason.
:func:`claim` records a delivery id so a redelivery is applied once; two concurrent requests
with the same id race on the unique key and exactly one wins.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Table, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import WebhookDelivery
from app.services.links import state as link_state
from app.services.links.attach import ApplyResult, ItemState

KEEP_DELIVERIES = timedelta(days=30)
_GITLAB_STATES = {"opened": "open", "reopened": "open", "locked": "open", "closed": "closed",
                  "merged": "merged"}


class BadPayload(ValueError):
    """The body is not a payload we can read; the message says which field."""


def _obj(data: Any, key: str, where: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise BadPayload(f"{where}{key} is missing or not an object")
    return value


def _str(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise BadPayload(f"{where}{key} is missing or not a string")
    return value


def _int(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise BadPayload(f"{where}{key} is missing or not a positive integer")
    return value


def _host(url: str, where: str) -> str:
    try:
        split = urlsplit(url)
        host, port = split.hostname, split.port
    except ValueError as exc:
        raise BadPayload(f"{where} is not a URL") from exc
    if not host:
        raise BadPayload(f"{where} is not a URL")
    return f"{host.lower()}:{port}" if port else host.lower()


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (``2026-03-02T09:00:00Z``) or GitLab's older ``2026-03-02 09:00:00 UTC``."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def gitlab_item(payload: Any) -> ItemState | None:
    """The item of an issue or merge request event; None for other event kinds."""
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    kind = payload.get("object_kind")
    if kind not in ("issue", "merge_request"):
        if not isinstance(kind, str):
            raise BadPayload("object_kind is missing")
        return None
    project = _obj(payload, "project", "")
    attrs = _obj(payload, "object_attributes", "")
    state = _GITLAB_STATES.get(_str(attrs, "state", "object_attributes."))
    if state is None:
        raise BadPayload("object_attributes.state is not a known state")
    title = attrs.get("title")
    return ItemState(
        provider="gitlab",
        host=_host(_str(project, "web_url", "project."), "project.web_url"),
        project=_str(project, "path_with_namespace", "project."),
        kind="issue" if kind == "issue" else "merge_request",
        number=_int(attrs, "iid", "object_attributes."),
        state=state, updated_at=parse_time(attrs.get("updated_at")),
        title=title if isinstance(title, str) else None,
    )


def github_item(event: str, payload: Any) -> ItemState | None:
    """The item of an ``issues`` or ``pull_request`` event; None for other events."""
    if event not in ("issues", "pull_request"):
        return None
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    key = "issue" if event == "issues" else "pull_request"
    item = _obj(payload, key, "")
    repo = _obj(payload, "repository", "")
    raw = _str(item, "state", f"{key}.")
    if raw not in ("open", "closed"):
        raise BadPayload(f"{key}.state is not open or closed")
    merged = event == "pull_request" and (item.get("merged") is True
                                          or isinstance(item.get("merged_at"), str))
    title = item.get("title")
    return ItemState(
        provider="github",
        host=_host(_str(repo, "html_url", "repository."), "repository.html_url"),
        project=_str(repo, "full_name", "repository."),
        kind="issue" if event == "issues" else "pull_request",
        number=_int(item, "number", f"{key}."),
        state="merged" if merged else raw, updated_at=parse_time(item.get("updated_at")),
        title=title if isinstance(title, str) else None,
    )


def delivery_key(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    value = value.strip()
    return value if len(value) <= 200 else hashlib.sha256(value.encode()).hexdigest()


def _claim_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, WebhookDelivery.__table__)
    return insert(table).on_conflict_do_nothing(
        index_elements=["provider", "delivery_id"]).returning(table.c.id)


# Built once per dialect: this runs on every webhook.
_CLAIM = {name: _claim_statement(name) for name in ("postgresql", "sqlite")}


def claim(*, session: Session, provider: str, delivery_id: str, now: datetime) -> bool:
    """Record a delivery id; False when it was recorded before (a redelivery)."""
    stmt = _CLAIM[session.get_bind().dialect.name]
    values = {"provider": provider, "delivery_id": delivery_id, "received_at": now}
    # On the connection, as plain Core: this runs on every webhook.
    return session.connection().execute(stmt, values).first() is not None


def handle(*, session: Session, provider: str, item: ItemState, delivery_id: str | None,
           now: datetime, workspace_id: int) -> tuple[str, ApplyResult]:
    """Apply one event to the links of one workspace: ("unlinked" | "duplicate" | "applied",
    result). Nothing is stored for an item no link of that workspace points at. Delivery
    ids are remembered per workspace."""
    krs = link_state.lock_for_item(session, item, workspace_id)
    if not krs:
        return "unlinked", ApplyResult()
    # Claimed while the KRs are locked: a simultaneous copy waits for the lock, then finds
    # the delivery id taken.
    scoped = delivery_key(f"{workspace_id}:{delivery_id}") if delivery_id else None
    if scoped is not None and not claim(session=session, provider=provider,
                                        delivery_id=scoped, now=now):
        return "duplicate", ApplyResult()
    result = link_state.apply_locked(session=session, item=item, krs=krs, now=now,
                                     actor_label=f"webhook:{provider}",
                                     workspace_id=workspace_id)
    return "applied", result


def prune(*, session: Session, now: datetime, keep: timedelta = KEEP_DELIVERIES) -> int:
    """Forget delivery ids older than ``keep`` (trackers stop redelivering long before)."""
    result = session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
