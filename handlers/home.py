"""The App Home tab: published on ``app_home_opened`` and after every change.

``publish_home(client, session, workspace_id, person, now, settings)`` is the one way to
refresh someone's Home; other handlers (and the scheduler) call it after changing things.
When the next check-in is due comes from ``next_checkin_provider`` (replaceable with
``set_next_checkin_provider``; the default asks app.services.schedules).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Person, Workspace
from app.services.okrs import mine as personal
from app.services.okrs.cache import ReportCache
from blocks.home import HomeData, TeamSummary, home_view
from handlers.context import Actor, Env

log = logging.getLogger(__name__)

NextCheckin = Callable[[Session, Person, datetime], datetime | None]


def _default_next_checkin(session: Session, person: Person, now: datetime) -> datetime | None:
    """The next prompt the scheduler would send (skipped ones left out), in the person's tz."""
    from app.services.scheduling import schedules

    ws = session.get(Workspace, person.workspace_id)
    if ws is None:
        return None
    for upcoming in schedules.upcoming_prompts(session=session, ws=ws, person=person, now=now):
        if upcoming.skip_reason is None:
            return upcoming.local
    return None


_provider: list[NextCheckin] = [_default_next_checkin]


def set_next_checkin_provider(fn: NextCheckin) -> None:
    _provider[0] = fn


def home_data(session: Session, workspace_id: int, person: Person, now: datetime,
              settings: Settings, cache: ReportCache | None = None) -> HomeData:
    report = personal.current_report(session=session, workspace_id=workspace_id, now=now,
                                     settings=settings.scoring, cache=cache)
    is_admin = bool(person.is_admin) or person.slack_id in settings.admins
    teams: list[TeamSummary] = []
    mine = []
    if report is not None:
        mine = personal.owned_krs(report, person.slack_id)
        seen = personal.visible(session, workspace_id, report,
                                personal.Scope(person.id, person.slack_id, is_admin))
        for key, name in personal.team_memberships(session=session, workspace_id=workspace_id,
                                                   person_id=person.id)[:8]:
            objs = [o for o in seen if o.team_key == key]
            teams.append(TeamSummary(name, report.team_scores.get(key), objs))
    try:
        due = _provider[0](session, person, now)
    except Exception:
        log.warning("home.next_checkin_failed", extra={"person": person.id}, exc_info=True)
        due = None
    return HomeData(name=person.name, tz=person.tz, cycle=report.cycle if report else None,
                    my_krs=mine, teams=teams, next_checkin=due, away_until=person.away_until)


def publish_home(client: WebClient, session: Session, workspace_id: int,
                 person: Person | Actor, now: datetime, settings: Settings, *,
                 cache: ReportCache | None = None) -> bool:
    """Render and publish someone's Home tab; False (logged) when Slack refused.

    Pass the Env's ``report_cache`` when there is one: an unchanged cycle is not re-scored.
    """
    row = person if isinstance(person, Person) else session.get(Person, person.id)
    if row is None or row.workspace_id != workspace_id:
        return False
    view = home_view(home_data(session, workspace_id, row, now, settings, cache))
    try:
        client.views_publish(user_id=row.slack_id, view=view)
    except SlackApiError as exc:
        log.error("home.publish_failed",
                  extra={"user": row.slack_id, "slack_error": exc.response.get("error")})
        return False
    return True


def refresh_later(env: Env, client: WebClient, workspace_id: int, person_id: int) -> None:
    """Refresh someone's Home after the ack; a quick series of changes refreshes it once."""

    def run() -> None:
        with env.session() as s:
            person = s.get(Person, person_id)
            if person is not None:
                publish_home(client, s, workspace_id, person, env.clock(), env.settings,
                             cache=env.report_cache)

    env.later_once(("home", workspace_id, person_id), run)


def register(app: App, env: Env) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient, okr: Env, workspace_id: int,
                       person: Actor | None, body: dict[str, Any]) -> None:
        if person is None or event.get("tab", "home") != "home":
            return
        okr.later(_publish_and_mark, okr, client, workspace_id, person.id,
                  str(body.get("event_id") or ""))


def _publish_and_mark(env: Env, client: WebClient, workspace_id: int, person_id: int,
                      event_id: str) -> None:
    from app.services.tenancy import slack_events

    with env.session() as s:
        person = s.get(Person, person_id)
        if person is None:
            return
        published = publish_home(client, s, workspace_id, person, env.clock(), env.settings,
                                 cache=env.report_cache)
        if published and event_id:
            slack_events.mark_processed(session=s, key=event_id, now=env.clock())
