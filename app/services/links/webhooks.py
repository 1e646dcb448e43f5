"""Webhook deliveries from GitLab and GitHub: read the payload, apply it once.

Parsing is pure: :func:`gitlab_item` and :func:`github_item` turn a decoded payload into an
:class:`~app.services.links.ItemState` (or, for a GitHub transfer, an
:class:`~app.services.links.refs.ItemMove`), None for an event that says nothing about an
item's state (GitHub's ``pinned``, ``labeled`` ... may leave the state out), or raise
:class:`BadPayload` with the reason.
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
from app.services.links import moves, queries
from app.services.links import state as link_state
from app.services.links.attach import ApplyResult, ItemState
from app.services.links.refs import DELETED, ItemMove
from app.services.links.urls import IssueRef

KEEP_DELIVERIES = timedelta(days=30)
_GITLAB_STATES = {"opened": "open", "reopened": "open", "locked": "open", "closed": "closed",
                  "merged": "merged"}
# GitLab's issues as work items (its newer view) come as ``work_item`` events.
_GITLAB_KINDS = {"issue": "issue", "work_item": "issue", "merge_request": "merge_request"}
# GitHub actions that change an item's state: their payload must say what it is now.
_GITHUB_STATE_ACTIONS = {"opened", "closed", "reopened"}


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


def _gitlab_project(project: dict[str, Any]) -> str:
    """The project's path as its links spell it: under a relative URL root
    (``https://host/gitlab/group/project``) the root is part of the path."""
    web_url = _str(project, "web_url", "project.")
    path = _str(project, "path_with_namespace", "project.")
    try:
        web_path = urlsplit(web_url).path.strip("/")
    except ValueError:
        return path
    return web_path if web_path.lower().endswith("/" + path.lower()) else path


def gitlab_item(payload: Any) -> ItemState | None:
    """The item of an issue, work item or merge request event; None for other event kinds."""
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    kind = payload.get("object_kind")
    if kind not in _GITLAB_KINDS:
        if not isinstance(kind, str):
            raise BadPayload("object_kind is missing")
        return None
    if kind == "work_item" and not isinstance(payload.get("project"), dict):
        return None  # a group's work item (an epic): no project, nothing a link points at
    project = _obj(payload, "project", "")
    attrs = _obj(payload, "object_attributes", "")
    state = _GITLAB_STATES.get(_str(attrs, "state", "object_attributes."))
    if state is None:
        raise BadPayload("object_attributes.state is not a known state")
    title = attrs.get("title")
    labels = payload.get("labels", attrs.get("labels"))
    return ItemState(
        provider="gitlab",
        host=_host(_str(project, "web_url", "project."), "project.web_url"),
        project=_gitlab_project(project),
        kind=_GITLAB_KINDS[kind],
        number=_int(attrs, "iid", "object_attributes."),
        state=state, updated_at=parse_time(attrs.get("updated_at")),
        title=title if isinstance(title, str) else None,
        labels=_labels(labels, "title"), milestone=_gitlab_milestone(payload, attrs),
    )


def _labels(value: Any, key: str) -> tuple[str, ...] | None:
    """Label names from a payload's list of label objects; None when it has no such list
    (saved searches then cannot tell whether the item matches)."""
    if not isinstance(value, list):
        return None
    names = [lb.get(key) for lb in value if isinstance(lb, dict)]
    return tuple(n[:255] for n in names if isinstance(n, str) and n.strip())[:100]


def _milestone_title(value: Any) -> str | None:
    title = value.get("title") if isinstance(value, dict) else None
    return title[:255] if isinstance(title, str) else None


def _gitlab_milestone(payload: dict[str, Any], attrs: dict[str, Any]) -> str | None:
    """The milestone's title ("" for none); None when the event names a milestone only by
    id (older GitLab versions): the daily search decides then."""
    for found in (attrs.get("milestone"), payload.get("milestone")):
        title = _milestone_title(found)
        if title is not None:
            return title
    if "milestone_id" in attrs and attrs["milestone_id"] is None:
        return ""
    return None


def github_item(event: str, payload: Any) -> ItemState | ItemMove | None:
    """The item of an ``issues`` or ``pull_request`` event; None for other events and for
    actions that leave the state out (``pinned``, ``labeled`` ...)."""
    if event not in ("issues", "pull_request"):
        return None
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    key = "issue" if event == "issues" else "pull_request"
    item = _obj(payload, key, "")
    repo = _obj(payload, "repository", "")
    action = payload.get("action")
    if event == "issues" and action in ("deleted", "transferred"):
        old = _github_issue(repo, item, "repository.", f"{key}.", DELETED)
        return old if action == "deleted" else _github_transfer(payload, old)
    raw = item.get("state")
    if raw is None and action not in _GITHUB_STATE_ACTIONS:
        return None  # the event is about something else; the state did not change
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
        labels=_labels(item.get("labels"), "name"),
        milestone=(_milestone_title(item["milestone"]) or "") if "milestone" in item
        else None,
    )


def _github_issue(repo: dict[str, Any], issue: dict[str, Any], repo_at: str, issue_at: str,
                  state: str) -> ItemState:
    title = issue.get("title")
    return ItemState(
        provider="github", host=_host(_str(repo, "html_url", repo_at), f"{repo_at}html_url"),
        project=_str(repo, "full_name", repo_at), kind="issue",
        number=_int(issue, "number", issue_at), state=state,
        # A deletion is final: no later edit can come, so it is never a late delivery.
        updated_at=None if state == DELETED else parse_time(issue.get("updated_at")),
        title=title if isinstance(title, str) else None)


def _github_transfer(payload: dict[str, Any], old: ItemState) -> ItemMove:
    """``issues.transferred``: the issue now lives at ``changes.new_issue`` in
    ``changes.new_repository``."""
    changes = _obj(payload, "changes", "")
    issue = _obj(changes, "new_issue", "changes.")
    repo = _obj(changes, "new_repository", "changes.")
    raw = issue.get("state")
    state = raw if raw in ("open", "closed") else "open"
    new = _github_issue(repo, issue, "changes.new_repository.", "changes.new_issue.", state)
    url = IssueRef("github", new.host, new.project, "issue", new.number).url
    return ItemMove(old=ItemState(old.provider, old.host, old.project, "issue", old.number,
                                  "open", title=old.title), new=new, url=url)


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


def handle(*, session: Session, provider: str, item: ItemState | ItemMove,
           delivery_id: str | None, now: datetime,
           workspace_id: int) -> tuple[str, ApplyResult]:
    """Apply one event to the links of one workspace: ("unlinked" | "duplicate" | "applied",
    result). Nothing is stored for an item no link of that workspace points at. Delivery
    ids are remembered per workspace. A move points the links at the new item first."""
    if isinstance(item, ItemState) and item.labels is not None:
        # The item may enter or leave saved searches first: then its state applies to them.
        queries.follow(session=session, item=item, workspace_id=workspace_id, now=now,
                       actor_label=f"webhook:{provider}")
    krs = link_state.lock_for_item(session, item.old if isinstance(item, ItemMove) else item,
                                   workspace_id)
    if not krs:
        return "unlinked", ApplyResult()
    # Claimed while the KRs are locked: a simultaneous copy waits for the lock, then finds
    # the delivery id taken.
    scoped = delivery_key(f"{workspace_id}:{delivery_id}") if delivery_id else None
    if scoped is not None and not claim(session=session, provider=provider,
                                        delivery_id=scoped, now=now):
        return "duplicate", ApplyResult()
    if isinstance(item, ItemMove):
        moves.move_links(session=session, move=item, workspace_id=workspace_id, now=now,
                         actor_label=f"webhook:{provider}")
        item = item.new
        krs = link_state.lock_for_item(session, item, workspace_id)
    result = link_state.apply_locked(session=session, item=item, krs=krs, now=now,
                                     actor_label=f"webhook:{provider}",
                                     workspace_id=workspace_id)
    return "applied", result


def prune(*, session: Session, now: datetime, keep: timedelta = KEEP_DELIVERIES) -> int:
    """Forget delivery ids older than ``keep`` (trackers stop redelivering long before)."""
    result = session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
