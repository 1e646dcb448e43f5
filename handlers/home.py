"""The App Home tab: published on ``app_home_opened`` and after every change.

``publish_home(client, tx, workspace_id, person_id, now, settings)`` is the one way to refresh
someone's Home; other handlers call it (through :func:`refresh_later`) after changing things.
When the next check-in is due comes from ``next_checkin_provider`` (replaceable with
``set_next_checkin_provider``; the default asks app/services/scheduling/personal.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.config import Settings
from app.domain import CheckinEntry, HomeFacts, Participation
from app.services.checkins import corrections
from app.services.okrs import mine as personal
from app.services.okrs.cache import ReportCache
from app.services.scheduling import digest_facts
from app.services.scheduling import personal as prompts
from app.services.scheduling import settings as settings_service
from app.services.tenancy import slack_events
from app.services.tx import Tx
from blocks.home import HomeData, TeamSummary, home_view
from blocks.home_settings import SettingsAccess
from handlers.context import Actor, Env
from handlers.home_setup import setup_view

log = logging.getLogger(__name__)

# (transaction, workspace id, person id, now) -> the next check-in, local to the person.
NextCheckin = Callable[[Tx, int, int, datetime], datetime | None]


def _default_next_checkin(tx: Tx, workspace_id: int, person_id: int,
                          now: datetime) -> datetime | None:
    return prompts.next_checkin(session=tx, workspace_id=workspace_id, person_id=person_id,
                                now=now)


_provider: list[NextCheckin] = [_default_next_checkin]


def set_next_checkin_provider(fn: NextCheckin) -> None:
    _provider[0] = fn


def home_data(facts: HomeFacts, next_checkin: datetime | None,
              recent: Sequence[CheckinEntry] = (),
              access: SettingsAccess | None = None,
              led: Mapping[str, Participation] | None = None) -> HomeData:
    """``led``: the participation of the teams the person leads, by team name."""
    teams = [TeamSummary(t.name, t.score, list(t.objectives), (led or {}).get(t.name))
             for t in facts.teams]
    return HomeData(name=facts.name, tz=facts.tz, cycle=facts.cycle, my_krs=list(facts.my_krs),
                    teams=teams, next_checkin=next_checkin, away_until=facts.away_until,
                    recent_checkins=tuple(recent), settings=access or SettingsAccess())


def _no_pause() -> None:
    return None


def publish_home(client: WebClient, tx: Tx, workspace_id: int, person_id: int, now: datetime,
                 settings: Settings, *, cache: ReportCache | None = None,
                 pause: Callable[[], None] = _no_pause) -> bool:
    """Render and publish someone's Home tab; False when they are not in this workspace, or
    (logged) when Slack refused.

    Pass the Env's ``report_cache`` when there is one: an unchanged cycle is not re-scored.
    ``pause``: called between the steps (after an ack: ``Env.wait_idle``, so that requests
    being answered meanwhile do not wait for the whole refresh).
    """
    facts = personal.home_facts(session=tx, workspace_id=workspace_id, person_id=person_id,
                                now=now, settings=settings, cache=cache)
    if facts is None:
        return False
    pause()
    try:
        due = _provider[0](tx, workspace_id, person_id, now)
    except Exception:
        log.warning("home.next_checkin_failed", extra={"person": person_id}, exc_info=True)
        due = None
    pause()
    recent = corrections.recent(session=tx, workspace_id=workspace_id, author_id=person_id,
                                now=now)
    found = settings_service.access_of(session=tx, workspace_id=workspace_id,
                                       person_id=person_id, env_admins=settings.admins)
    access = SettingsAccess(found.is_admin, found.teams)
    pause()
    led = digest_facts.led_participation(session=tx, workspace_id=workspace_id,
                                         person_id=person_id, now=now)
    pause()
    setup = setup_view(client, tx, workspace_id, person_id, now, settings)
    pause()
    data = replace(home_data(facts, due, recent, access, led), setup=setup)
    try:
        client.views_publish(user_id=facts.slack_id, view=home_view(data))
    except SlackApiError as exc:
        log.error("home.publish_failed",
                  extra={"user": facts.slack_id, "slack_error": exc.response.get("error")})
        return False
    return True


def refresh_later(env: Env, client: WebClient, workspace_id: int, person_id: int) -> None:
    """Refresh someone's Home after the ack; a quick series of changes refreshes it once."""

    def run() -> None:
        with env.session() as tx:
            publish_home(client, tx, workspace_id, person_id, env.clock(), env.settings,
                         cache=env.report_cache, pause=env.wait_idle)

    env.later_once(("home", workspace_id, person_id), run)


def on_home_opened(event: dict[str, Any], client: WebClient, env: Env, workspace_id: int,
                   person: Actor | None, body: dict[str, Any]) -> None:
    if person is None or event.get("tab", "home") != "home":
        return
    env.later(_publish_and_mark, env, client, workspace_id, person.id,
              str(body.get("event_id") or ""))


def _publish_and_mark(env: Env, client: WebClient, workspace_id: int, person_id: int,
                      event_id: str) -> None:
    with env.session() as tx:
        published = publish_home(client, tx, workspace_id, person_id, env.clock(),
                                 env.settings, cache=env.report_cache, pause=env.wait_idle)
        if published and event_id:
            slack_events.mark_processed(session=tx, key=event_id, now=env.clock())


def register(app: App, env: Env) -> None:
    app.event("app_home_opened")(on_home_opened)
