"""The HTTP surface: Flask, with Bolt's Flask adapter on ``/slack/*``.

Routes: ``POST /slack/events`` (commands, interactivity, options and events), ``GET /healthz``
(200 only when the database answers), ``GET /slack/install`` and ``GET /slack/oauth_redirect``
(OAuth, when configured). Blueprints: ``app.api`` (the progress API under /api/v1) and
``app.webhooks`` (issue tracker webhooks), each exposing ``blueprint(container)``.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, request
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from slack_sdk.signature import SignatureVerifier
from werkzeug.datastructures import Headers

from app import api, metrics_http, webhooks
from app.bootstrap import Container
from app.db import ping

log = logging.getLogger(__name__)

# What Slack sends: a Unix time in seconds and "v0=" with a hex SHA-256 HMAC. Anything else is
# refused here: slack_sdk's verifier would raise on it (int("abc"), non-ASCII digests).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Slack's ids (T..., E..., U..., C...): letters and digits. A body naming anything else is not
# from Slack, and must not reach a query (PostgreSQL refuses a NUL in text).
_SLACK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def slack_headers_malformed(headers: Headers) -> bool:
    """Whether a request's Slack signing headers are missing or not of Slack's form."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    return not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature))


def slack_ids_malformed(bolt_request: BoltRequest) -> bool:
    """Whether the team, enterprise, user or channel id the body names is not a Slack id."""
    context = bolt_request.context
    ids = (context.team_id, context.enterprise_id, context.user_id, context.channel_id)
    return any(value is not None and not (isinstance(value, str) and _SLACK_ID.fullmatch(value))
               for value in ids)


def slack_request_signed(verifier: SignatureVerifier | None) -> bool:
    """Whether the request carries a valid Slack signature (``verifier`` None: Bolt decides).

    Checked before Bolt, because Bolt parses the body before it verifies it, and an unsigned
    body that is not what Slack sends would be a 500 there rather than a 401.
    """
    if verifier is None:
        return True
    if slack_headers_malformed(request.headers):
        return False
    return verifier.is_valid(body=request.get_data(as_text=True),  # what Bolt verifies
                             timestamp=request.headers["X-Slack-Request-Timestamp"],
                             signature=request.headers["X-Slack-Signature"])


def create_web_app(container: Container, bolt_app: App | None = None) -> Flask:
    web = Flask("okr-checkin")
    web.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if ping(container.engine):
            return jsonify(status="ok"), 200
        return jsonify(status="database unavailable"), 503

    if bolt_app is not None:
        # Deferred: the Slack listeners load only with a Bolt app.
        from app.slack import env_of

        env = env_of(bolt_app)
        handler = SlackRequestHandler(bolt_app)
        secret = container.settings.slack_signing_secret
        verifier = SignatureVerifier(secret) if secret else None

        @web.post("/slack/events")
        def slack_events() -> Response | tuple[Response, int]:
            with env.busy():  # reading the request counts too (see Env.busy)
                return _slack_events()

        def _slack_events() -> Response | tuple[Response, int]:
            if not slack_request_signed(verifier):
                log.warning("slack.unsigned_request")
                return jsonify(error="invalid request"), 401
            try:
                # Bolt reads the body as it builds the request: a signed body that is not what
                # Slack sends (a payload that is no JSON object) raises there.
                bolt_request = to_bolt_request(request)
            except (ValueError, TypeError, AttributeError):
                bolt_request = None
            if bolt_request is None or slack_ids_malformed(bolt_request):
                log.warning("slack.unreadable_body")
                return jsonify(error="the body is not a Slack request"), 400
            return to_flask_response(bolt_app.dispatch(bolt_request))

        if bolt_app.oauth_flow is not None:
            @web.get("/slack/install")
            def slack_install() -> Response:
                return handler.handle(request)

            @web.get("/slack/oauth_redirect")
            def slack_oauth_redirect() -> Response:
                return handler.handle(request)

    web.register_blueprint(api.blueprint(container))
    web.register_blueprint(webhooks.blueprint(container))
    metrics_http.install(web, container)  # GET /metrics and request timing, when on
    return web
