"""The HTTP surface: Flask, with Bolt's Flask adapter on ``/slack/*``.

Routes: ``POST /slack/events`` (commands, interactivity, options and events), ``GET /healthz``
(200 only when the database answers), ``GET /slack/install`` and ``GET /slack/oauth_redirect``
(OAuth, when configured). Blueprints: ``app.api`` (the progress API under /api/v1) and
``app.webhooks`` (issue tracker webhooks), each exposing ``blueprint(container)``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

from app import api, webhooks
from app.bootstrap import Container
from app.db import ping


def create_web_app(container: Container, bolt_app: App | None = None) -> Flask:
    web = Flask("okr-checkin")
    web.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if ping(container.engine):
            return jsonify(status="ok"), 200
        return jsonify(status="database unavailable"), 503

    if bolt_app is not None:
        handler = SlackRequestHandler(bolt_app)

        @web.post("/slack/events")
        def slack_events() -> Response:
            return handler.handle(request)

        if bolt_app.oauth_flow is not None:
            @web.get("/slack/install")
            def slack_install() -> Response:
                return handler.handle(request)

            @web.get("/slack/oauth_redirect")
            def slack_oauth_redirect() -> Response:
                return handler.handle(request)

    web.register_blueprint(api.blueprint(container))
    web.register_blueprint(webhooks.blueprint(container))
    return web
