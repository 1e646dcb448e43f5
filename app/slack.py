"""The Bolt app: one factory builds it from Settings and the container.

Middleware resolves the request's workspace and acting person, then hands listeners what they
need through Bolt's context (see handlers/context.py): ``env`` (the shared Env),
``workspace_id``, ``person`` and ``now``. Single workspace runs on ``SLACK_BOT_TOKEN``;
with ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` the app installs over OAuth and reads each
workspace's token from the (encrypted) installation store. ``SLACK_API_URL`` is the base URL of
every Web API call, including OAuth's.

Requests are served only for the Slack team bound to a workspace (see
app/services/tenancy/binding.py): with a bot token, the token's own team (``auth.test``); over
OAuth, teams with an installation, whose workspace the install created. Anything else, and
Enterprise Grid organisation-wide installs, is refused and creates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from html import escape
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.orm import Session, sessionmaker

import handlers
from app.bootstrap import Container, utcnow
from app.config import Settings
from app.models import Workspace
from app.services.tenancy import binding, directory, installations, slack_events, teams_sync
from handlers import text_guard
from handlers.context import Env
from handlers.people import ensure_person

log = logging.getLogger(__name__)

# Scopes the features use; manifest.yaml lists the same ones (with why) and
# tests/slack/test_manifest.py keeps them in step.
BOT_SCOPES = [
    "commands", "chat:write", "im:write", "im:history", "channels:history", "groups:history",
    "users:read", "files:write",
    "users:read.email",  # the directory sync's emails (profile.email of users.list)
    "usergroups:read",  # teams that follow a user group (usergroups.users.list, its events)
    "channels:read",  # teams that follow a public channel (conversations.members, its events)
    "groups:read",  # ... and a private channel the bot was invited to
]

# Events that carry a user whose Person we need before the listener runs.
_PERSON_EVENTS = {"app_home_opened"}
# Events Bolt passes on without checking the token or the installation (it may be gone):
# they may reach a workspace already bound, never bind one.
_UNCHECKED_EVENTS = {"app_uninstalled", "tokens_revoked", "team_access_revoked"}


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


class _TokenFromClient(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused." and nothing else.

    Bolt reads SLACK_BOT_TOKEN from the environment itself and warns when a ``client`` is
    given too; ours is built from that very token (with SLACK_API_URL and retries), so the
    warning says nothing at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _quiet_bolt_token_warning() -> None:
    bolt_log = logging.getLogger(f"slack_bolt.{App.__name__}")  # Bolt's own logger for App
    if not any(isinstance(f, _TokenFromClient) for f in bolt_log.filters):
        bolt_log.addFilter(_TokenFromClient())


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
        # What a team without an installation (OAuth) is told.
        "user_facing_authorize_error_message": binding.NOT_SET_UP,
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
        oauth_settings = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=BOT_SCOPES,
            installation_store=store,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=120,
            state_store=installations.state_store(container.engine),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            callback_options=CallbackOptions(success=_installed, failure=_install_failed),
        )
        kwargs["oauth_flow"] = BindingOAuthFlow(env, client=kwargs["client"], logger=log,
                                                settings=oauth_settings)
    else:
        kwargs["client"] = client or web_client(settings, settings.slack_bot_token)
        kwargs["token_verification_enabled"] = token_verification_enabled
    _quiet_bolt_token_warning()
    app = App(**kwargs)
    # Token cleanup on tokens_revoked / app_uninstalled lives in handlers/events.py (Bolt's
    # own revocation listeners would shadow ours: only the first matching listener runs).
    env.installation_store = kwargs.get("installation_store")
    env.authorize = kwargs.get("authorize")
    app.use(_dedupe_events_middleware(env))
    app.use(text_guard.guard)
    app.use(_context_middleware(env, oauth=uses_oauth(settings)))
    app.error(_error_handler)
    app.okr_env = env  # type: ignore[attr-defined] # tests and serve reach the Env through the app
    handlers.register_all(app, env)
    _mark_busy(app, env)
    return app


def _mark_busy(app: App, env: Env) -> None:
    """Every request Bolt answers (over HTTP, Socket Mode or in tests) counts as one being
    answered until its answer is ready: work queued after an ack waits (see Env.busy).
    A middleware cannot: Bolt runs the listener after the middleware chain has returned."""
    dispatch = app.dispatch

    def busy_dispatch(req: BoltRequest) -> BoltResponse:
        with env.busy():
            return dispatch(req)

    app.dispatch = busy_dispatch  # type: ignore[method-assign]


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


def _context_middleware(env: Env, *, oauth: bool) -> Callable[..., BoltResponse | None]:
    def resolve(context: BoltContext, body: dict[str, Any], client: WebClient,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:
        team_id = context.team_id
        if not team_id:
            # An Enterprise Grid organisation-wide install: not supported, never keyed by the
            # organisation's id.
            if context.enterprise_id:
                return _refuse(context, body, "enterprise_install", binding.ORG_INSTALL_REFUSED)
            return _refuse(context, body, "no_team", binding.NOT_SET_UP)
        now = env.clock()
        user_id = context.user_id
        event_type = (body.get("event") or {}).get("type")
        unchecked = body.get("type") == "event_callback" and event_type in _UNCHECKED_EVENTS
        if not oauth and not unchecked and _bot_team(context) != team_id:
            return _refuse(context, body, "other_team", binding.NOT_SET_UP)
        wants_person = bool(user_id) and (
            body.get("type") != "event_callback" or event_type in _PERSON_EVENTS
        )
        ws_id = env.workspace_ids.get(team_id)
        actor = env.actors.get(ws_id, user_id) if ws_id is not None and user_id else None
        if ws_id is None or (wants_person and actor is None):
            with env.session() as s:
                if ws_id is None:
                    ws = _workspace(s, context, team_id, now, oauth=oauth, unchecked=unchecked)
                    if ws is None:
                        return _refuse(context, body, "not_installed", binding.NOT_SET_UP)
                    ws_id = ws.id
                if wants_person and user_id:
                    name = (body.get("user") or {}).get("name") or body.get("user_name")
                    actor = ensure_person(s, _quick(client), ws_id, user_id, now, env.settings,
                                          name)
                    env.actors.put(ws_id, actor)
            if not unchecked:
                env.workspace_ids[team_id] = ws_id
        if not wants_person:
            actor = None
        context["env"] = env
        context["workspace_id"] = ws_id
        context["person"] = actor
        context["now"] = now
        return next()

    return resolve


def _workspace(s: Session, context: BoltContext, team_id: str, now: datetime, *, oauth: bool,
               unchecked: bool) -> Workspace | None:
    """The request's workspace. Uninstall events only find one already bound. In OAuth mode
    Bolt's authorization found this team's installation, so an installed team whose
    workspace does not exist yet (installed before workspaces were bound at install) gets
    its own, never an unbound one."""
    if unchecked:
        return binding.bound(session=s, team_id=team_id)
    if oauth:
        if context.authorize_result is None:
            return binding.bound(session=s, team_id=team_id)
        return binding.for_installed_team(session=s, team_id=team_id, name=None, now=now)
    return binding.for_bot_team(session=s, team_id=team_id, now=now)


def _bot_team(context: BoltContext) -> str | None:
    """The bot token's team: Bolt's single-team authorization ran ``auth.test`` once (at
    start, or on the first request) and put its answer in every request's context."""
    result = context.authorize_result
    return result.team_id if result is not None else None


def _refuse(context: BoltContext, body: dict[str, Any], reason: str,
            message: str) -> BoltResponse:
    """Nothing is created. A slash command gets ``message`` (ephemeral); anything else an
    empty 200, so that Slack does not retry it."""
    log.warning("slack.request_refused",
                extra={"reason": reason, "team": context.team_id,
                       "enterprise": context.enterprise_id,
                       "type": body.get("type") or ("command" if body.get("command") else None)})
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": message})
    return BoltResponse(status=200, body="")


class OrgInstallRefused(BoltError):
    """An Enterprise Grid organisation-wide install (each workspace installs on its own)."""


class BindingOAuthFlow(OAuthFlow):
    """Bolt's OAuth flow, binding the installing team's workspace once its installation is
    stored, and refusing organisation-wide installs before anything is stored."""

    def __init__(self, env: Env, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.env = env

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        if installation.is_enterprise_install or not installation.team_id:
            _revoke(self.client, installation.bot_token)
            log.warning("slack.install_refused",
                        extra={"reason": "enterprise_install",
                               "enterprise": installation.enterprise_id})
            raise OrgInstallRefused(binding.ORG_INSTALL_REFUSED)
        super().store_installation(request, installation)
        with self.env.session() as s:
            ws_id = binding.for_installed_team(session=s, team_id=installation.team_id,
                                               name=installation.team_name,
                                               now=self.env.clock()).id
        self.env.workspace_ids.pop(installation.team_id, None)
        # The directory, then the teams that follow channels or user groups, are read after
        # the redirect has been answered (a reinstall may come after days without a token).
        client = WebClient(token=installation.bot_token, base_url=self.client.base_url,
                           timeout=10)
        self.env.later(_read_workspace, factory=self.env.session_factory, workspace_id=ws_id,
                       client=client, now=self.env.clock())


def _read_workspace(*, factory: sessionmaker[Session], workspace_id: int, client: WebClient,
                    now: datetime) -> None:
    directory.sync(factory=factory, workspace_id=workspace_id, client=client, now=now)
    teams_sync.refresh_all(factory, lambda _ws: client, now=now, workspace_ids=[workspace_id])


def _revoke(client: WebClient, token: str | None) -> None:
    """Give back a token we will not keep (best effort: Slack may refuse or be away)."""
    if not token:
        return
    try:
        client.auth_revoke(token=token)
    except (SlackApiError, OSError) as exc:
        log.warning("slack.revoke_failed", extra={"error": type(exc).__name__})


def _installed(args: SuccessArgs) -> BoltResponse:
    return args.default.success(args)


def _install_failed(args: FailureArgs) -> BoltResponse:
    if isinstance(args.error, OrgInstallRefused):
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Not installed</title>"
                f"</head><body><p>{escape(binding.ORG_INSTALL_REFUSED)}</p></body></html>")
        return BoltResponse(status=403, body=page,
                            headers={"content-type": "text/html; charset=utf-8"})
    return args.default.failure(args)


def _quick(client: WebClient) -> WebClient:
    """The request's client without the rate-limit retries: the ack is waiting, and a
    Retry-After may be longer than Slack's 3 seconds (the user then gets a placeholder name
    that their next request or a user_change event fills in)."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=2)


def _error_handler(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    """Last resort for exceptions that escaped a listener: log them, never show a trace."""
    log.error("slack.listener_failed",
              extra={"type": body.get("type"), "error": type(error).__name__}, exc_info=error)
