"""Slack Web API clients for the scheduler, one per workspace.

A single ``SLACK_BOT_TOKEN`` serves every workspace (the self-hosted, single-workspace case);
otherwise the bot token comes from the OAuth installation of the workspace's Slack team.
Clients do no retries of their own: a retried post after a dropped connection could post
twice, so retrying is the delivery loop's decision (see scheduler.delivery).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import unit_of_work
from app.models import Workspace
from app.services.tenancy.installations import installation_store
from scheduler.delivery import ClientFor

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10  # well inside the lease, so a send never outlives its claim
CACHE_SECONDS = 60.0  # how long an OAuth bot token is reused before it is read again


def make_client(settings: Settings, token: str) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS,
                     retry_handlers=[])


def client_factory(settings: Settings, engine: Engine, factory: sessionmaker[Session], *,
                   ttl_seconds: float = CACHE_SECONDS) -> ClientFor:
    """Clients by workspace; an OAuth token is read again after ``ttl_seconds``, so a
    revoked, refreshed or reinstalled token (or a new installation) is picked up."""
    if settings.slack_bot_token:
        shared = make_client(settings, settings.slack_bot_token)
        return lambda _ws_id: shared
    if not settings.slack_client_id:
        log.warning("scheduler.no_slack_token",
                    extra={"hint": "set SLACK_BOT_TOKEN (or install the app through OAuth)"})
        return lambda _ws_id: None

    store = installation_store(settings, engine)
    cache: dict[int, tuple[float, WebClient | None]] = {}
    lock = threading.Lock()

    def client_for(ws_id: int) -> WebClient | None:
        with lock:
            if ws_id in cache and time.monotonic() - cache[ws_id][0] < ttl_seconds:
                return cache[ws_id][1]
        with unit_of_work(factory) as s:
            team = s.scalar(select(Workspace.slack_team_id).where(Workspace.id == ws_id))
        bot = store.find_bot(enterprise_id=None, team_id=team) if team else None
        client = make_client(settings, bot.bot_token) if bot and bot.bot_token else None
        with lock:
            cache[ws_id] = (time.monotonic(), client)
        return client

    return client_for
