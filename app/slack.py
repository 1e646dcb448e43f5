"""The Bolt app: one factory builds it from Settings and the container.

Middleware resolves the request's workspace and acting person, then hands listeners what they
need through Bolt's context (see handlers/context.py): ``env`` (the shared Env),
``workspace_id``, ``person`` and ``now``. Single workspace runs on ``SLACK_BOT_TOKEN``;
with ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` the app installs over OAuth and reads each
workspace's token from the (encrypted) installation store. ``SLACK_API_URL`` is the base URL of
every Web API call, including OAuth's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

import handlers
from app.bootstrap import Container, utcnow
from app.config import Settings
from app.services.tenancy import installations, slack_events, workspaces
from handlers.context import Env
from handlers.people import ensure_person

log = logging.getLogger(__name__)

# Scopes the features use; manifest.yaml lists the same ones.
BOT_SCOPES = ["commands", "chat:write", "im:write", "im:history", "channels:history",
              "groups:history", "users:read", "files:write"]

# Events that carry a user whose Person we need before the listener runs.
_PERSON_EVENTS = {"app_home_opened"}


def retry_handlers() -> list[RetryHandler]:
    """429s after Retry-After, 5xx and connection errors, a few times each."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=retry_handlers(),
                     timeout=10)


def uses_oauth(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def create_bolt_app(
    settings: Settings,
    container: Container,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] = utcnow,
    process_before_response: bool = True,
    token_verification_enabled: bool = True,
) -> App:
    """Build the Bolt app.

    ``process_before_response=True`` (the default) runs each listener in the request thread and
    answers Slack when it returns: listeners ack fast replies directly and queue slow work with
    ``env.later(...)`` (or Bolt lazy listeners). Tests pass ``client`` pointing at a fake Slack.
    """
    executor = ThreadPoolExecutor(max_workers=settings.listener_threads,
                                  thread_name_prefix="okr-listener")
    env = Env(settings, container.session_factory, clock=clock, executor=executor)
    kwargs: dict[str, Any] = {
        "signing_secret": settings.slack_signing_secret or "",
        "process_before_response": process_before_response,
        "listener_executor": executor,
        "raise_error_for_unhandled_request": False,
        "ignoring_self_events_enabled": True,
    }
    if uses_oauth(settings):
        store = installations.installation_store(settings, container.engine)
        kwargs["client"] = client or web_client(settings)
        kwargs["installation_store"] = store
        # auth.test once per token, not once per request; cleared when tokens are revoked.
        kwargs["authorize"] = InstallationStoreAuthorize(
            logger=log, installation_store=store, client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret, bot_only=True, cache_enabled=True,
            client=kwargs["client"])
        kwargs["oauth_settings"] = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=BOT_SCOPES,
            installation_store=store,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=120,
            state_store=installations.state_store(container.engine),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
    else:
        kwargs["client"] = client or web_client(settings, settings.slack_bot_token)
        kwargs["token_verification_enabled"] = token_verification_enabled
    app = App(**kwargs)
    # Token cleanup on tokens_revoked / app_uninstalled lives in handlers/events.py (Bolt's
    # own revocation listeners would shadow ours: only the first matching listener runs).
    env.installation_store = kwargs.get("installation_store")
    env.authorize = kwargs.get("authorize")
    app.use(_dedupe_events_middleware(env))
    app.use(_context_middleware(env))
    app.error(_error_handler)
    app.okr_env = env  # type: ignore[attr-defined] # tests and serve reach the Env through the app
    handlers.register_all(app, env)
    return app


def env_of(app: App) -> Env:
    env: Env = app.okr_env  # type: ignore[attr-defined]
    return env


def _dedupe_events_middleware(env: Env) -> Callable[..., BoltResponse | None]:
    def dedupe(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with env.session() as s:
                done = slack_events.already_processed(session=s, key=str(event_id))
            if done:
                log.info("slack.event_duplicate", extra={"event_id": event_id})
                return BoltResponse(status=200, body="")
        return next()

    return dedupe


def _context_middleware(env: Env) -> Callable[..., BoltResponse | None]:
    def resolve(context: BoltContext, body: dict[str, Any], client: WebClient,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        team_id = context.team_id or context.enterprise_id
        if not team_id:
            return next()
        now = env.clock()
        user_id = context.user_id
        event_type = (body.get("event") or {}).get("type")
        wants_person = bool(user_id) and (
            body.get("type") != "event_callback" or event_type in _PERSON_EVENTS
        )
        ws_id = env.workspace_ids.get(team_id)
        actor = env.actors.get(ws_id, user_id) if ws_id is not None and user_id else None
        if ws_id is None or (wants_person and actor is None):
            with env.session() as s:
                if ws_id is None:
                    ws_id = workspaces.for_slack_team(session=s, team_id=team_id, now=now).id
                if wants_person and user_id:
                    name = (body.get("user") or {}).get("name") or body.get("user_name")
                    actor = ensure_person(s, _quick(client), ws_id, user_id, now, env.settings,
                                          name)
                    env.actors.put(ws_id, actor)
            env.workspace_ids[team_id] = ws_id
        if not wants_person:
            actor = None
        context["env"] = env
        context["workspace_id"] = ws_id
        context["person"] = actor
        context["now"] = now
        return next()

    return resolve


def _quick(client: WebClient) -> WebClient:
    """The request's client without the rate-limit retries: the ack is waiting, and a
    Retry-After may be longer than Slack's 3 seconds (the user then gets a placeholder name
    that their next request or a user_change event fills in)."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=2)


def _error_handler(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    """Last resort for exceptions that escaped a listener: log them, never show a trace."""
    log.error("slack.listener_failed",
              extra={"type": body.get("type"), "error": type(error).__name__}, exc_info=error)
