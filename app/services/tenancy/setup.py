"""First-run setup of a workspace from Slack: what is still missing, and the steps that fix it.

It lives with tenancy because it is about a workspace being ready (a cycle, teams, admins),
not about any one OKR; cycles themselves come from app/calendar/fiscal.py and phases from
app/calendar/phases.py, exactly as an import file's cycles do.

Every step is for OKR admins only, decided here: the caller's :class:`Principal` is checked.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from slack_sdk import WebClient
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.calendar import fiscal
from app.calendar.phases import imported_phase
from app.models import AuditEntry, Cycle, Person, Team, Workspace
from app.services import audit
from app.services.access import Principal
from app.services.errors import InvalidValue, NotAllowed, OkrError
from app.services.okrs import cycles
from app.services.okrs.editing import slug
from app.services.tenancy import members_source
from app.services.text import text_problem

ADMINS_ONLY = "only an OKR admin can set up the workspace"
TEST_PROMPT = "setup.test_prompt"
MAX_TEAMS_SHOWN = 10
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,30}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,30}$")


@dataclass(frozen=True, slots=True)
class SetupFacts:
    """Where a workspace's first-run setup stands, for one person."""

    needed: bool  # no current cycle or no team: the checklist shows
    is_admin: bool
    admin_slack_ids: tuple[str, ...]
    cycle_name: str | None  # the current cycle, when there is one
    suggested: tuple[str, date, date]  # the fiscal quarter containing today
    team_channels: tuple[tuple[str, str | None], ...]  # (team name, digest channel id)
    test_prompt_sent: bool


def _workspace(session: Session, workspace_id: int) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise OkrError("this workspace is not set up")
    return ws


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise NotAllowed(ADMINS_ONLY)


def facts(*, session: Session, workspace_id: int, person_id: int, now: datetime,
          admin_slack_ids: Collection[str]) -> SetupFacts:
    ws = _workspace(session, workspace_id)
    person = session.get(Person, person_id)
    today = cycles.org_today(ws, now)
    cycle = cycles.current(session=session, workspace_id=workspace_id, today=today)
    window = fiscal.quarter_containing(today, ws.fiscal_year_start_month or 1)
    teams = session.execute(select(Team.name, Team.channel_id).where(
        Team.workspace_id == workspace_id).order_by(Team.id).limit(MAX_TEAMS_SHOWN)).all()
    stored_admins = session.scalars(select(Person.slack_id).where(
        Person.workspace_id == workspace_id, Person.is_admin.is_(True),
        Person.active.is_(True)).order_by(Person.id).limit(10)).all()
    admins = tuple(dict.fromkeys([*admin_slack_ids, *stored_admins]))
    sent = person is not None and bool(session.scalar(select(exists().where(
        AuditEntry.workspace_id == workspace_id, AuditEntry.actor_id == person.id,
        AuditEntry.action == TEST_PROMPT))))
    is_admin = person is not None and person.workspace_id == workspace_id and (
        bool(person.is_admin) or person.slack_id in admin_slack_ids)
    return SetupFacts(needed=cycle is None or not teams, is_admin=is_admin,
                      admin_slack_ids=admins, cycle_name=cycle.name if cycle else None,
                      suggested=(window.name, window.start, window.end),
                      team_channels=tuple((n, c) for n, c in teams), test_prompt_sent=sent)


def create_current_cycle(*, session: Session, workspace_id: int, actor: Principal,
                         actor_label: str, now: datetime) -> Cycle:
    """The fiscal quarter containing the organisation's today, as a cycle; its phase as an
    import gives a cycle without one (active when today falls in it)."""
    _require_admin(actor)
    ws = _workspace(session, workspace_id)
    today = cycles.org_today(ws, now)
    window = fiscal.quarter_containing(today, ws.fiscal_year_start_month or 1)
    taken = session.scalar(select(Cycle.id).where(Cycle.workspace_id == workspace_id,
                                                   Cycle.name == window.name))
    if taken is not None:
        raise InvalidValue(f"the cycle {window.name} already exists")
    cycle = Cycle(workspace_id=workspace_id, name=window.name, start_date=window.start,
                  end_date=window.end,
                  phase=imported_phase(window.start, window.end, today).value)
    session.add(cycle)
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor.id,
                 actor_label=actor_label, action="cycle.create", subject_type="cycle",
                 subject_key=cycle.name, now=now,
                 after={"start": window.start.isoformat(), "end": window.end.isoformat(),
                        "phase": cycle.phase})
    return cycle


def team_problems(*, name: str, channel_id: str | None,
                  usergroup: str | None = None) -> dict[str, str]:
    """What is wrong with a new team's form, by field ("name", "channel", "usergroup"): a
    name, and a channel or a user group (or both) to take its members from."""
    problems: dict[str, str] = {}
    name = name.strip()
    if not name:
        problems["name"] = "give the team a name"
    elif len(name) > 200:
        problems["name"] = "keep the name under 200 characters"
    elif (bad := text_problem(name)) is not None:
        problems["name"] = bad
    if channel_id and not _CHANNEL.match(channel_id):
        problems["channel"] = "pick a channel"
    if usergroup and not _GROUP.match(usergroup):
        problems["usergroup"] = "pick a user group"
    if not channel_id and not usergroup:
        problems["channel"] = "pick a channel or a user group"
    return problems


def _team_key(session: Session, workspace_id: int, name: str) -> str:
    base = slug(name)
    taken = set(session.scalars(select(Team.key).where(
        Team.workspace_id == workspace_id, (Team.key == base) | Team.key.like(f"{base}-%"))))
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def create_team(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
                name: str, channel_id: str | None, now: datetime, usergroup: str | None = None,
                slack: WebClient | None = None) -> Team:
    """A team whose digest channel is ``channel_id`` and whose members follow the user group,
    else the channel (``members_from``); the caller refreshes them from Slack. A user group
    is checked with ``slack`` (it must exist); a channel is not, the bot may not be in it
    yet. Validated again here (InvalidValue, its ``field`` as in :func:`team_problems`)."""
    _require_admin(actor)
    _workspace(session, workspace_id)
    problems = team_problems(name=name, channel_id=channel_id, usergroup=usergroup)
    if problems:
        field = next(iter(problems))
        raise InvalidValue("; ".join(problems.values()), field=field)
    name = name.strip()
    if session.scalar(select(Team.id).where(Team.workspace_id == workspace_id,
                                            Team.name == name)) is not None:
        raise InvalidValue(f"there already is a team named {name!r}", field="name")
    source = {"usergroup": usergroup} if usergroup else {"channel": str(channel_id)}
    if usergroup:
        problem = members_source.problem(slack, source) if slack is not None else \
            "Slack could not be asked: try again"
        if problem:
            raise InvalidValue(problem, field="usergroup")
    team = Team(workspace_id=workspace_id, key=_team_key(session, workspace_id, name),
                name=name, kind="team", channel_id=channel_id or None)
    session.add(team)
    session.flush()
    team.members_from = source  # its members follow Slack from now on (teams_sync)
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor.id,
                 actor_label=actor_label, action="team.create", subject_type="team",
                 subject_key=team.key, now=now,
                 after={"name": name, "channel": channel_id or None, "members_from": source})
    return team


def record_test_prompt(*, session: Session, workspace_id: int, actor: Principal,
                       actor_label: str, now: datetime) -> None:
    """Note that an admin sent themselves a test prompt (nothing else is recorded)."""
    _require_admin(actor)
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor.id,
                 actor_label=actor_label, action=TEST_PROMPT, subject_type="person",
                 subject_key=str(actor.id), now=now)
