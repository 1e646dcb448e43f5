"""Tracker webhooks: issue trackers tell us about state.

``POST /webhooks/<provider>/<hook key>`` is one workspace's connection (``okr tracker add``):
the event is verified with that connection's own secret and touches that workspace's links
only, and only items on the connection's host. Jira (``/webhooks/jira/<hook key>``) has no
environment endpoint: it signs like GitHub (``X-Hub-Signature: sha256=<hmac>``) and names a
delivery with ``X-Atlassian-Webhook-Identifier``. Linear: ``/webhooks/linear/<hook key>``
only, see :mod:`app.webhooks_linear`. ``POST /webhooks/gitlab`` and
``/webhooks/github`` are the environment's (``OKR_*_WEBHOOK_SECRET``) and apply to the
workspace the environment configures (the only one, or ``OKR_TRACKER_WORKSPACE``); with
several workspaces and none named they refuse every event.

verify the secret -> read the event -> apply it once -> answer. Statuses: 200 applied (or a
redelivery, applied before), 202 accepted but nothing to do (an event kind we ignore, an item
no KR links to: nothing is stored), 400 malformed, 401 bad or missing secret, 404 unknown
hook key, 413 too large, 503 database unavailable (the tracker retries). Never a stack trace.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from app import metrics, webhooks_linear
from app.api_errors import ApiError, install, json_response
from app.bootstrap import Container, utcnow
from app.db import unit_of_work
from app.services.errors import NotAllowed
from app.services.links import connections, jira_events
from app.services.links import webhooks as webhook_events
from app.services.links.attach import ItemState
from app.services.links.refs import ItemMove
from app.services.tenancy import retention

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _body() -> bytes:
    request.max_content_length = MAX_BODY
    return request.get_data(cache=True)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "the body is not valid JSON") from exc


def _reply(code: int, /, **body: object) -> Response:
    return json_response(body, code)


def _apply(container: Container, clock: Callable[[], datetime], provider: str,
           item: ItemState | ItemMove | None, delivery: str | None, workspace_id: int) -> Response:
    """Apply the event once (``delivery`` names a redelivery) and answer the tracker."""
    if item is None:
        return _reply(202, status="ignored")
    with unit_of_work(container.session_factory) as session:
        outcome, result = webhook_events.handle(
            session=session, provider=provider, item=item, workspace_id=workspace_id,
            delivery_id=webhook_events.delivery_key(delivery), now=clock())
    seen = item.new if isinstance(item, ItemMove) else item
    log.info("webhook.%s", outcome, extra={"provider": provider, "project": seen.project,
                                            "number": seen.number, "state": seen.state,
                                            "workspace_id": workspace_id,
                                            "changed": result.changed})
    if outcome == "unlinked":
        return _reply(202, status="unlinked")
    if outcome == "duplicate":
        return _reply(200, status="duplicate")
    return _reply(200, status=outcome, links=result.matched, changed=result.changed,
                  checkins=result.checkins)


def _gitlab_event(secret: str) -> tuple[ItemState | ItemMove | None, str | None]:
    if not _same(request.headers.get("X-Gitlab-Token"), secret):
        raise ApiError(401, "X-Gitlab-Token does not match the configured secret")
    payload = _decode(_body())
    try:
        item = webhook_events.gitlab_item(payload)
    except webhook_events.BadPayload as exc:
        raise ApiError(400, str(exc)) from exc
    return item, (request.headers.get("Idempotency-Key")
                  or request.headers.get("X-Gitlab-Event-UUID"))


def _github_event(secret: str) -> tuple[ItemState | ItemMove | None, str | None] | Response:
    raw = _body()
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not _same(request.headers.get("X-Hub-Signature-256"), expected):
        raise ApiError(401, "X-Hub-Signature-256 does not match the body and secret")
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return _reply(200, status="pong")
    if event not in ("issues", "pull_request"):
        return _reply(202, status="ignored")
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.form.get("payload", "").encode()
    try:
        item = webhook_events.github_item(event, _decode(raw))
    except webhook_events.BadPayload as exc:
        raise ApiError(400, str(exc)) from exc
    return item, request.headers.get("X-GitHub-Delivery")


def _jira_event(secret: str, host: str) -> tuple[ItemState | None, str | None]:
    """A Jira delivery to the connection for ``host``: signed, then read (see jira_events)."""
    raw = _body()
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not _same(request.headers.get("X-Hub-Signature"), expected):
        raise ApiError(401, "X-Hub-Signature does not match the body and secret")
    try:
        item = jira_events.jira_item(_decode(raw), host=host)
    except webhook_events.BadPayload as exc:
        raise ApiError(400, str(exc)) from exc
    return item, request.headers.get("X-Atlassian-Webhook-Identifier")


def _env_workspace(container: Container) -> int | None:
    """The workspace the environment's webhook secrets apply to (see the module doc)."""
    try:
        with unit_of_work(container.session_factory) as session:
            return connections.webhook_workspace(session=session, settings=container.settings)
    except NotAllowed as exc:
        raise ApiError(401, str(exc)) from exc


def _connection(container: Container, provider: str, key: str) -> tuple[int, str, str]:
    """(workspace id, host, secret) of the connection a webhook URL names."""
    with unit_of_work(container.session_factory) as session:
        conn = connections.by_hook_key(session=session, settings=container.settings,
                                       provider=provider, key=key)
    if conn is None or not conn.webhook_secret or conn.workspace_id is None:
        raise ApiError(404, "no tracker connection has this webhook URL")
    return conn.workspace_id, conn.host, conn.webhook_secret


def _refuse_disabled(container: Container, workspace_id: int) -> None:
    """An uninstalled workspace takes no events (its data waits for deletion)."""
    with unit_of_work(container.session_factory) as session:
        disabled = retention.is_disabled(session=session, workspace_id=workspace_id)
    if disabled:
        raise ApiError(403, "this workspace uninstalled the app: its webhooks are not applied",
                       code="workspace_disabled")


# Outcomes counted by okr_webhook_events_total: the answer's status, or its error code.
OUTCOMES = frozenset({"applied", "duplicate", "unlinked", "ignored", "pong", "bad_request",
                      "unauthorized", "forbidden", "not_found", "too_large", "unavailable",
                      "workspace_disabled", "method_not_allowed", "unsupported_media_type"})


def _count(response: Response) -> Response:
    body = response.get_json(silent=True) if response.is_json else None
    body = body if isinstance(body, dict) else {}
    error = body.get("error")
    outcome = str(error.get("code") if isinstance(error, dict) else body.get("status"))
    provider = (request.endpoint or "").rsplit(".", 1)[-1].split("_", 1)[0]
    metrics.webhook(provider if provider in connections.PROVIDERS else "other",
                    outcome if outcome in OUTCOMES else str(response.status_code))
    return response


def blueprint(container: Container, *, clock: Callable[[], datetime] = utcnow) -> Blueprint:
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    install(bp)
    bp.after_request(_count)
    settings = container.settings

    def handled(provider: str, event: tuple[ItemState | ItemMove | None, str | None] | Response,
                workspace_id: int | None, host: str | None = None) -> Response:
        if isinstance(event, Response):
            return event
        item, delivery = event
        if workspace_id is None:  # no workspace at all yet: nothing can be linked
            return _reply(202, status="unlinked")
        _refuse_disabled(container, workspace_id)
        where = item.old.host if isinstance(item, ItemMove) else item.host if item else None
        if where is not None and host is not None and where != host:
            return _reply(202, status="ignored", reason=f"not an item on {host}")
        return _apply(container, clock, provider, item, delivery, workspace_id)

    @bp.post("/gitlab")
    def gitlab() -> Response:
        secret = settings.gitlab_webhook_secret
        if not secret:
            raise ApiError(401, "GitLab webhooks are not enabled (set OKR_GITLAB_WEBHOOK_SECRET)")
        event = _gitlab_event(secret)
        return handled("gitlab", event, _env_workspace(container))

    @bp.post("/github")
    def github() -> Response:
        secret = settings.github_webhook_secret
        if not secret:
            raise ApiError(401, "GitHub webhooks are not enabled (set OKR_GITHUB_WEBHOOK_SECRET)")
        event = _github_event(secret)
        return handled("github", event, _env_workspace(container))

    @bp.post("/gitlab/<key>")
    def gitlab_connection(key: str) -> Response:
        workspace_id, host, secret = _connection(container, "gitlab", key)
        return handled("gitlab", _gitlab_event(secret), workspace_id, host)

    @bp.post("/github/<key>")
    def github_connection(key: str) -> Response:
        workspace_id, host, secret = _connection(container, "github", key)
        return handled("github", _github_event(secret), workspace_id, host)

    @bp.post("/jira/<key>")
    def jira_connection(key: str) -> Response:
        workspace_id, host, secret = _connection(container, "jira", key)
        return handled("jira", _jira_event(secret, host), workspace_id, host)
    @bp.post("/linear/<key>")
    def linear_connection(key: str) -> Response:
        workspace_id, host, event = webhooks_linear.event(container, key, _body(),
                                                          request.headers, clock())
        return handled("linear", event, workspace_id, host)

    return bp
