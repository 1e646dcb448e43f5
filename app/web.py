"""The HTTP surface: Flask, with Bolt's Flask adapter on ``/slack/*``.

Routes: ``POST /slack/events`` (commands, interactivity, options and events), ``GET /healthz``
(200 only when the database answers), ``GET /slack/install`` and ``GET /slack/oauth_redirect``
(OAuth, when configured). Blueprints from optional modules are registered when present:
``app.api`` (the progress API under /api/v1) and ``app.webhooks`` (issue tracker webhooks),
each exposing ``blueprint(container) -> flask.Blueprint``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

from app.bootstrap import Container
from app.db import ping

log = logging.getLogger(__name__)

# Modules that may contribute a blueprint, each with ``blueprint(container)``.
OPTIONAL_BLUEPRINTS = ("app.api", "app.webhooks")


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


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

    for name in OPTIONAL_BLUEPRINTS:
        if not _module_exists(name):
            continue
        module = importlib.import_module(name)
        factory = getattr(module, "blueprint", None)
        if factory is None:
            log.warning("web.blueprint_missing", extra={"module": name})
            continue
        web.register_blueprint(factory(container))
    return web
