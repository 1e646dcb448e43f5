"""Build and sign Slack requests for tests: slash commands, interactivity, options and events.

Each builder returns a ``SignedRequest`` that can be dispatched to a Bolt ``App``
(``req.dispatch(app)`` or ``app.dispatch(req.bolt())``) or posted over real HTTP
(``req.post("http://127.0.0.1:3000/slack/events")``)::

    slack = SlackRequests(SIGNING_SECRET, response_base=fake.base_url)
    resp = slack.command("U0ADA", "mine").dispatch(app)
    resp = slack.button("U0ADA", Action.OPEN_CHECKIN, value="...", channel="D0ADA",
                        message_ts="1700000001.000001").dispatch(app)
    resp = slack.view_submission("U0ADA", view).dispatch(app)
    resp = slack.event({"type": "app_home_opened", "user": "U0ADA", "tab": "home"},
                       event_id="Ev1", retry_num=1).dispatch(app)

``stale=True`` signs with a timestamp 10 minutes old; ``bad_signature=True`` breaks the signature.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

_seq = itertools.count(1)


@dataclass
class SignedRequest:
    body: str
    headers: dict[str, str]
    response_key: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def bolt(self) -> BoltRequest:
        return BoltRequest(body=self.body, headers={k: [v] for k, v in self.headers.items()})

    def dispatch(self, app: App) -> BoltResponse:
        return app.dispatch(self.bolt())

    def post(self, url: str, timeout: float = 10.0) -> Any:
        """POST over real HTTP; returns the ``requests.Response``."""
        import requests

        return requests.post(url, data=self.body.encode(), headers=self.headers, timeout=timeout)


def json_body(resp: BoltResponse) -> dict[str, Any]:
    """The JSON an ack carried (empty dict for an empty 200)."""
    if not resp.body:
        return {}
    loaded = json.loads(resp.body)
    return loaded if isinstance(loaded, dict) else {}


class SlackRequests:
    def __init__(self, signing_secret: str, *, team_id: str = "T0TEST",
                 api_app_id: str = "A0OKR", response_base: str | None = None) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.response_base = response_base or "http://127.0.0.1:9"

    # --- signing ---------------------------------------------------------------------------

    def sign(self, body: str, content_type: str, *, stale: bool = False,
             bad_signature: bool = False, extra: dict[str, str] | None = None) -> dict[str, str]:
        ts = str(int(time.time()) - (600 if stale else 0))
        signature = self.verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None
        if bad_signature:
            signature = signature[:-4] + ("0000" if not signature.endswith("0000") else "1111")
        headers = {"content-type": content_type, "x-slack-request-timestamp": ts,
                   "x-slack-signature": signature}
        headers.update(extra or {})
        return headers

    def _form(self, payload: dict[str, Any], **kw: Any) -> SignedRequest:
        body = urlencode({"payload": json.dumps(payload)})
        return SignedRequest(body, self.sign(body, "application/x-www-form-urlencoded", **kw))

    def new_response_url(self) -> tuple[str, str]:
        key = f"r{next(_seq)}"
        return key, f"{self.response_base}/response/{key}"

    def trigger_id(self) -> str:
        return f"{next(_seq)}.{int(time.time())}.trigger"

    def _user(self, user_id: str) -> dict[str, Any]:
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(),
                "team_id": self.team_id}

    # --- requests --------------------------------------------------------------------------

    def command(self, user_id: str, text: str = "", *, command: str = "/okr",
                channel_id: str = "C0GENERAL", trigger_id: str | None = None,
                **kw: Any) -> SignedRequest:
        key, url = self.new_response_url()
        form = {
            "token": "legacy", "team_id": self.team_id, "team_domain": "test",
            "channel_id": channel_id, "channel_name": "general", "user_id": user_id,
            "user_name": user_id.lower(), "command": command, "text": text,
            "api_app_id": self.api_app_id, "is_enterprise_install": "false",
            "response_url": url, "trigger_id": trigger_id or self.trigger_id(),
        }
        body = urlencode(form)
        req = SignedRequest(body, self.sign(body, "application/x-www-form-urlencoded", **kw),
                            response_key=key, meta=form)
        return req

    def block_actions(self, user_id: str, actions: list[dict[str, Any]], *,
                      view: dict[str, Any] | None = None, channel: str | None = None,
                      message_ts: str | None = None, message: dict[str, Any] | None = None,
                      trigger_id: str | None = None, **kw: Any) -> SignedRequest:
        key, url = self.new_response_url()
        payload: dict[str, Any] = {
            "type": "block_actions", "user": self._user(user_id),
            "api_app_id": self.api_app_id, "token": "legacy",
            "team": {"id": self.team_id, "domain": "test"},
            "trigger_id": trigger_id or self.trigger_id(),
            "actions": [{"action_ts": str(time.time()), **a} for a in actions],
            "is_enterprise_install": False,
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = view
        else:
            ts = message_ts or "1700000000.000001"
            payload["container"] = {"type": "message", "message_ts": ts,
                                    "channel_id": channel or "C0GENERAL", "is_ephemeral": False}
            payload["channel"] = {"id": channel or "C0GENERAL", "name": "general"}
            payload["message"] = message or {"type": "message", "ts": ts, "text": "",
                                             "user": "U0BOT"}
            payload["response_url"] = url
        req = self._form(payload, **kw)
        req.response_key = key
        req.meta = payload
        return req

    def button(self, user_id: str, action_id: str, value: str = "", *,
               block_id: str = "b", **kw: Any) -> SignedRequest:
        action = {"type": "button", "action_id": str(action_id), "block_id": block_id,
                  "value": value, "text": {"type": "plain_text", "text": "button"}}
        return self.block_actions(user_id, [action], **kw)

    def view_submission(self, user_id: str, view: dict[str, Any],
                        values: dict[str, dict[str, Any]] | None = None,
                        **kw: Any) -> SignedRequest:
        """Submit ``view`` (as views.open returned it) with ``values`` as its state."""
        submitted = dict(view)
        submitted.setdefault("id", f"V{next(_seq):08d}")
        submitted.setdefault("hash", f"h{next(_seq)}")
        submitted["state"] = {"values": values if values is not None
                              else view.get("state", {}).get("values", {})}
        payload = {
            "type": "view_submission", "user": self._user(user_id),
            "team": {"id": self.team_id, "domain": "test"}, "api_app_id": self.api_app_id,
            "token": "legacy", "trigger_id": self.trigger_id(), "view": submitted,
            "response_urls": [], "is_enterprise_install": False,
        }
        req = self._form(payload, **kw)
        req.meta = payload
        return req

    def view_closed(self, user_id: str, view: dict[str, Any], **kw: Any) -> SignedRequest:
        payload = {"type": "view_closed", "user": self._user(user_id),
                   "team": {"id": self.team_id}, "api_app_id": self.api_app_id,
                   "view": view, "is_cleared": False}
        return self._form(payload, **kw)

    def block_suggestion(self, user_id: str, action_id: str, value: str, *,
                         block_id: str = "b", view: dict[str, Any] | None = None,
                         **kw: Any) -> SignedRequest:
        payload: dict[str, Any] = {
            "type": "block_suggestion", "user": self._user(user_id),
            "team": {"id": self.team_id, "domain": "test"}, "api_app_id": self.api_app_id,
            "token": "legacy", "action_id": str(action_id), "block_id": block_id,
            "value": value, "container": {"type": "view"},
        }
        if view is not None:
            payload["view"] = view
        return self._form(payload, **kw)

    def event(self, event: dict[str, Any], *, event_id: str | None = None,
              retry_num: int | None = None, retry_reason: str = "http_timeout",
              **kw: Any) -> SignedRequest:
        event = {"event_ts": str(time.time()), **event}
        envelope = {
            "token": "legacy", "team_id": self.team_id, "api_app_id": self.api_app_id,
            "event": event, "type": "event_callback",
            "event_id": event_id or f"Ev{next(_seq):010d}", "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": "U0BOT", "is_bot": True,
                                "is_enterprise_install": False}],
        }
        extra = dict(kw.pop("extra", None) or {})
        if retry_num is not None:
            extra.update({"x-slack-retry-num": str(retry_num),
                          "x-slack-retry-reason": retry_reason})
        body = json.dumps(envelope)
        req = SignedRequest(body, self.sign(body, "application/json", extra=extra, **kw),
                            meta=envelope)
        return req

    def url_verification(self, challenge: str = "challenge-1", **kw: Any) -> SignedRequest:
        body = json.dumps({"token": "legacy", "challenge": challenge,
                           "type": "url_verification"})
        return SignedRequest(body, self.sign(body, "application/json", **kw))

    def grid_event(self, event: dict[str, Any], *, enterprise_id: str = "E0ORG",
                   **kw: Any) -> SignedRequest:
        """An event of an Enterprise Grid organisation-wide install: no team, only the
        organisation (``authorizations[0].team_id`` is null)."""
        envelope = {
            "token": "legacy", "enterprise_id": enterprise_id, "team_id": None,
            "api_app_id": self.api_app_id, "type": "event_callback",
            "event_id": f"Ev{next(_seq):010d}", "event_time": int(time.time()),
            "event": {"event_ts": str(time.time()), **event},
            "authorizations": [{"enterprise_id": enterprise_id, "team_id": None,
                                "user_id": "U0BOT", "is_bot": True,
                                "is_enterprise_install": True}],
        }
        body = json.dumps(envelope)
        return SignedRequest(body, self.sign(body, "application/json", **kw), meta=envelope)
