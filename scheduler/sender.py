"""One Web API post and what its outcome means for retrying.

Slack's answers fall into five kinds. ``ok``; ``ratelimited`` (HTTP 429: certainly not posted,
retry after ``Retry-After``); ``permanent`` (Slack refused it for good: never retried);
``ambiguous`` (a 5xx, ``internal_error``/``fatal_error``, a timeout or a dropped connection:
it may or may not have been posted, so it is reconciled before any retry); and that is all -
an unknown ``ok: false`` error is a refusal and counts as permanent.
"""

from __future__ import annotations

import http.client
import logging
import urllib.error
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app import metrics

log = logging.getLogger(__name__)

# Errors that stop this recipient for good (slack-facts.md "Never retry").
PERMANENT = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "missing_scope",
    "channel_not_found", "not_in_channel", "is_archived", "user_not_found", "user_disabled",
    "msg_too_long", "invalid_blocks", "msg_blocks_too_long", "cannot_dm_bot",
    "restricted_action", "team_access_not_granted", "invalid_arguments", "no_text",
})
# The person is gone: deactivate them so no prompt is computed for them again.
DEACTIVATES = frozenset({"user_not_found", "user_disabled", "account_inactive"})
# The token is unusable: nothing else for this workspace can succeed in this pass either.
WORKSPACE_DEAD = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                            "missing_scope", "team_access_not_granted"})
MAYBE_POSTED = frozenset({"internal_error", "fatal_error", "request_timeout",
                          "service_unavailable"})
EVENT_TYPE = "okr_delivery"
# A request that may or may not have reached Slack (OSError covers resets and timeouts).
NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError,
                  http.client.HTTPException, OSError)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # ok | ratelimited | permanent | ambiguous
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    retry_after: float = 0.0


def metadata(delivery_id: int, token: str, part: int) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE,
            "event_payload": {"delivery": delivery_id, "token": token, "part": part}}


def post(client: WebClient, *, channel: str, text: str, blocks: Sequence[Mapping[str, Any]],
         meta: Mapping[str, Any], thread_ts: str | None = None) -> Outcome:
    kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": list(blocks),
                              "metadata": dict(meta), "unfurl_links": False,
                              "unfurl_media": False}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    outcome = _post(client, channel, kwargs)
    metrics.slack_call("chat.postMessage", outcome.kind)
    return outcome


def _post(client: WebClient, channel: str, kwargs: dict[str, Any]) -> Outcome:
    try:
        resp = client.chat_postMessage(**kwargs)
    except SlackApiError as exc:
        return classify_error(exc)
    except NETWORK_ERRORS as exc:
        return Outcome("ambiguous", error=f"connection: {type(exc).__name__}")
    return Outcome("ok", ts=str(resp.get("ts")), channel=str(resp.get("channel") or channel))


def classify_error(exc: SlackApiError) -> Outcome:
    response = exc.response
    status = int(getattr(response, "status_code", 200) or 200)
    data = getattr(response, "data", None)
    error = str(data.get("error")) if isinstance(data, Mapping) and data.get("error") \
        else f"http_{status}"
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            retry = max(float(raw), 0.0)
        except (TypeError, ValueError):
            retry = 1.0
        return Outcome("ratelimited", error="ratelimited", retry_after=retry or 1.0)
    if status >= 500 or error in MAYBE_POSTED:
        return Outcome("ambiguous", error=error)
    return Outcome("permanent", error=error)


def find_posted(client: WebClient, *, target: str, channel: str | None, token: str,
                part: int, thread_ts: str | None = None) -> Outcome:
    """Look for a message we sent with ``token`` in its metadata (reconciliation).

    Returns ``ok`` (found, with its ts), ``permanent`` with error ``not_found`` (the
    conversation answered and it is not there), or ``ambiguous`` (could not tell).
    """
    method = "conversations.replies" if thread_ts else "conversations.history"
    try:
        if channel is None:
            if target[:1] in ("U", "W"):
                opened = client.conversations_open(users=target)
                channel = str(opened["channel"]["id"])
            else:
                channel = target
        if thread_ts:
            history = client.conversations_replies(channel=channel, ts=thread_ts,
                                                   include_all_metadata=True, limit=200)
        else:
            # The latest messages, whatever their ts: reconciliation runs minutes after the
            # send, and clocks (ours, Slack's) never enter into it.
            history = client.conversations_history(channel=channel, include_all_metadata=True,
                                                   limit=200)
    except SlackApiError as exc:
        metrics.slack_call(method, classify_error(exc).kind)
        return Outcome("ambiguous", error=f"reconcile: {classify_error(exc).error}")
    except NETWORK_ERRORS as exc:
        metrics.slack_call(method, "ambiguous")
        return Outcome("ambiguous", error=f"reconcile: {type(exc).__name__}")
    metrics.slack_call(method, "ok")
    for msg in history.get("messages") or []:
        meta = msg.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") == EVENT_TYPE and payload.get("token") == token \
                and int(payload.get("part", 0)) == part:
            return Outcome("ok", ts=str(msg.get("ts")), channel=channel)
    return Outcome("permanent", error="not_found", channel=channel)
