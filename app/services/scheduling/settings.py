"""Settings changed in Slack: the organisation's (admins), a team's (its lead, a lead above
it, admins) and one's own (everyone). Mostly schedules, which is why this lives here.

Values are checked by the import file's own rules (``data.imports.schema``: time zones,
schedules, timeline presets; ``app.calendar.workdays.country_problem`` for holidays), so a
setting means the same thing typed in Slack or imported. Who may change what is decided here
from the database at submit time. Every change is audited; the scheduler reads these columns
on its next tick.

Errors come back together as :class:`SettingsInvalid`, keyed by field (``timezone``,
``digest.time``...), for the modal to show inline. Nothing is written then.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar.workdays import country_problem
from app.models import Person, Team, Workspace
from app.services import access, audit
from app.services.data.imports.schema import Schedule, SettingsIn
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.scheduling import week_settings
from app.services.tenancy import members_source, people
from app.services.tenancy.actors import workspace_and_person

# Settings fields -> Workspace columns (as the import writes them).
_ORG = {"name": "name", "timezone": "timezone", "fiscal_year_start_month":
        "fiscal_year_start_month", "timeline": "timeline_preset", "holidays": "holiday_country",
        "checkin": "checkin_schedule", "digest": "digest_schedule",
        "work_days": "work_days", "work_hours": "work_hours"}


class SettingsInvalid(InvalidValue):
    """Every problem of a settings form, keyed by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class Access:
    """Which settings someone may open: the org's, and these teams' (key, name)."""

    is_admin: bool
    teams: tuple[tuple[str, str], ...]


def _me(session: Session, workspace_id: int, person_id: int,
        env_admins: Collection[str]) -> tuple[Workspace, Person, bool]:
    ws, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                  person_id=person_id)
    return ws, me, bool(me.is_admin) or me.slack_id in env_admins


def access_of(*, session: Session, workspace_id: int, person_id: int,
              env_admins: Collection[str]) -> Access:
    _, me, admin = _me(session, workspace_id, person_id, env_admins)
    query = select(Team.key, Team.name).where(Team.workspace_id == workspace_id)
    if not admin:
        led = access.led_team_ids(session=session, workspace_id=workspace_id, person_id=me.id)
        query = query.where(Team.id.in_(led or {-1}))
    return Access(admin, tuple(session.execute(query.order_by(Team.name)).tuples()))


def _problems(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(part) for part in err["loc"] if not isinstance(part, int)]
        key = ".".join([prefix, *loc] if prefix else loc) or prefix or "form"
        out.setdefault(key, str(err["msg"]).removeprefix("Value error, "))
    return out


def _schedule(raw: Mapping[str, Any] | None, field: str,
              errors: dict[str, str]) -> dict[str, Any] | None:
    """A schedule from a form (None: inherit), by the import file's rule."""
    if raw is None or not (raw.get("day") or raw.get("time")):
        return None
    try:
        return Schedule.model_validate({k: v for k, v in raw.items() if v}).stored()
    except ValidationError as exc:
        errors.update(_problems(exc, field))
        return None


# --- the organisation -------------------------------------------------------------------------


def org_form(*, session: Session, workspace_id: int, person_id: int,
             env_admins: Collection[str]) -> dict[str, Any]:
    """The org's settings as the form starts; admins only."""
    ws, _, admin = _me(session, workspace_id, person_id, env_admins)
    if not admin:
        raise NotAllowed("only OKR admins change the organisation's settings")
    out: dict[str, Any] = {field: getattr(ws, column) for field, column in _ORG.items()}
    out["admins"] = list(session.scalars(select(Person.slack_id).where(
        Person.workspace_id == ws.id, Person.is_admin.is_(True), Person.active.is_(True))))
    return out


def save_org(*, session: Session, workspace_id: int, person_id: int, raw: Mapping[str, Any],
             env_admins: Collection[str], now: datetime) -> list[tuple[str, int]]:
    """Check and store the org's settings; returns (Slack id, person id) of the people whose
    admin role changed."""
    ws, me, admin = _me(session, workspace_id, person_id, env_admins)
    if not admin:
        raise NotAllowed("only OKR admins change the organisation's settings")
    errors: dict[str, str] = {}
    wanted: dict[str, Any] = {}
    try:
        parsed = SettingsIn.model_validate({k: raw.get(k) for k in
                                            ("name", "timezone", "fiscal_year_start_month",
                                             "timeline", "holidays")})
        # An empty name, zone, month or preset keeps what is set; empty holidays clears them.
        wanted = {k: getattr(parsed, k) for k in ("name", "timezone", "fiscal_year_start_month",
                                                  "timeline", "holidays")
                  if getattr(parsed, k) is not None or k == "holidays"}
    except ValidationError as exc:
        errors.update(_problems(exc))
    country = raw.get("holidays")
    if isinstance(country, str) and country.strip() and "holidays" not in errors:
        code = country.strip().upper()
        wanted["holidays"] = code
        problem = country_problem(code)
        if problem:
            errors["holidays"] = problem
    for field in ("checkin", "digest"):
        wanted[field] = _schedule(raw.get(field), field, errors)
    wanted |= {k: v for k, v in week_settings.week_of(raw, errors).items() if k in raw}
    admins = set(raw.get("admins") or ())
    promoted, demoted = _admin_changes(session, ws, me, admins, errors)
    if errors:
        raise SettingsInvalid(errors)
    before = {k: getattr(ws, _ORG[k]) for k in wanted if getattr(ws, _ORG[k]) != wanted[k]}
    after = {k: wanted[k] for k in before}
    for key, value in after.items():
        setattr(ws, _ORG[key], value)
    for person in promoted + demoted:
        person.is_admin = person in promoted
    if promoted or demoted:
        before["admins_removed"] = [p.slack_id for p in demoted]
        after["admins_added"] = [p.slack_id for p in promoted]
    if before:
        audit.record(session=session, workspace_id=ws.id, actor_id=me.id,
                     actor_label=f"slack:{me.slack_id}", action="settings.org",
                     subject_type="workspace", subject_key=str(ws.id), now=now,
                     before=before, after=after)
    return [(p.slack_id, p.id) for p in promoted + demoted]


def _admin_changes(session: Session, ws: Workspace, me: Person, admins: set[str],
                   errors: dict[str, str]) -> tuple[list[Person], list[Person]]:
    # As the form lists them: active people (a deactivated admin is left as they are).
    rows = {p.slack_id: p for p in session.scalars(select(Person).where(
        Person.workspace_id == ws.id, Person.active.is_(True),
        Person.is_admin.is_(True) | Person.slack_id.in_(admins)))}
    unknown = sorted(admins - set(rows))
    if unknown:
        errors["admins"] = f"{unknown[0]} is not in the OKRs yet: add them first"
    if me.is_admin and me.slack_id not in admins:
        errors["admins"] = "you cannot remove yourself: another admin can"
    promoted = [p for sid, p in rows.items() if sid in admins and not p.is_admin]
    demoted = [p for sid, p in rows.items() if sid not in admins and p.is_admin]
    return promoted, demoted


# --- a team -----------------------------------------------------------------------------------


def _team(session: Session, workspace_id: int, person_id: int, key: str,
          env_admins: Collection[str]) -> tuple[Person, Team]:
    _, me, admin = _me(session, workspace_id, person_id, env_admins)
    team = session.scalars(select(Team).where(Team.workspace_id == workspace_id,
                                              Team.key == key)).first()
    if team is None:
        raise NotFound(f"no team {key!r}")
    if not admin and team.id not in access.led_team_ids(session=session,
                                                        workspace_id=workspace_id,
                                                        person_id=me.id):
        raise NotAllowed("only the team's lead (or a lead above it) and OKR admins change "
                         "its settings")
    return me, team


def team_form(*, session: Session, workspace_id: int, person_id: int, key: str,
              env_admins: Collection[str]) -> dict[str, Any]:
    _, team = _team(session, workspace_id, person_id, key, env_admins)
    kind, source_id = members_source.stored(team)
    return {"key": team.key, "name": team.name, "channel": team.channel_id,
            "checkin": team.checkin_schedule, "digest": team.digest_schedule,
            "members_kind": kind, "members_from": source_id}


def save_team(*, session: Session, workspace_id: int, person_id: int, key: str,
              raw: Mapping[str, Any], env_admins: Collection[str], now: datetime,
              slack: WebClient | None = None) -> int | None:
    """Check and store a team's settings. A new members source (a channel or a user group)
    is checked with ``slack`` first; the team's id is returned then, for its members to be
    refreshed from Slack (None: nothing to refresh). No source keeps members by hand."""
    me, team = _team(session, workspace_id, person_id, key, env_admins)
    errors: dict[str, str] = {}
    channel = raw.get("channel") or None
    if channel is not None and not (isinstance(channel, str) and channel[:1] in "CG"
                                    and channel[1:].isalnum() and len(channel) <= 32):
        errors["channel"] = "pick a channel"
    wanted = {"channel_id": channel,
              "checkin_schedule": _schedule(raw.get("checkin"), "checkin", errors),
              "digest_schedule": _schedule(raw.get("digest"), "digest", errors)}
    if "members_kind" in raw:  # a form without the field leaves the source as it is
        wanted["members_from"] = members_source.parse(raw, errors)
    source = wanted.get("members_from")
    if source and source != team.members_from and not errors:
        found = members_source.problem(slack, source) if slack is not None else \
            "Slack could not be asked: try again"
        if found:
            errors["members_group" if "usergroup" in source else "members_channel"] = found
    if errors:
        raise SettingsInvalid(errors)
    before = {k: getattr(team, k) for k, v in wanted.items() if getattr(team, k) != v}
    if not before:
        return None
    after = {k: wanted[k] for k in before}
    for column, value in after.items():
        setattr(team, column, value)
    audit.record(session=session, workspace_id=workspace_id, actor_id=me.id,
                 actor_label=f"slack:{me.slack_id}", action="settings.team",
                 subject_type="team", subject_key=team.key, now=now, before=before, after=after)
    return team.id if "members_from" in after and source else None


# --- one's own --------------------------------------------------------------------------------


_MINE = {"work_days": "work_days", "work_hours": "work_hours",
         "holiday_calendar": "holiday_calendar", "away_from": "away_from", "nudges": "nudges"}


def my_form(*, session: Session, workspace_id: int, person_id: int) -> dict[str, Any]:
    _, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                 person_id=person_id)
    return {"checkin": me.checkin_schedule, "away_until": me.away_until, "tz": me.tz,
            **{field: getattr(me, column) for field, column in _MINE.items()}}


def save_mine(*, session: Session, workspace_id: int, person_id: int, raw: Mapping[str, Any],
              today: date, now: datetime) -> None:
    """Someone's own check-in schedule (None: their team's), working week, holiday calendar,
    nudges and days away."""
    _, me = workspace_and_person(session=session, workspace_id=workspace_id,
                                 person_id=person_id)
    errors: dict[str, str] = {}
    schedule = _schedule(raw.get("checkin"), "checkin", errors)
    away = raw.get("away_until")
    if away is not None and away < today:
        errors["away_until"] = f"{away.isoformat()} is in the past"
    wanted = week_settings.week_of(raw, errors)
    wanted["holiday_calendar"] = week_settings.holiday_calendar(raw.get("holiday_calendar"),
                                                                errors)
    wanted["away_from"] = raw.get("away_from")
    problem = week_settings.away_problem(wanted["away_from"], away)
    if problem:
        errors["away_from"] = problem
    wanted["nudges"] = "on" in (raw.get("nudges") or ())
    # A form without a field (opened before it existed) keeps what is set.
    wanted |= {k: getattr(me, c) for k, c in _MINE.items() if k not in raw}
    if errors:
        raise SettingsInvalid(errors)
    before = {k: getattr(me, c) for k, c in _MINE.items() if getattr(me, c) != wanted[k]}
    if schedule != me.checkin_schedule:
        before["checkin"] = me.checkin_schedule
    after = {k: schedule if k == "checkin" else wanted[k] for k in before}
    if before:
        audit.record(session=session, workspace_id=workspace_id, actor_id=me.id,
                     actor_label=f"slack:{me.slack_id}", action="settings.person",
                     subject_type="person", subject_key=me.slack_id, now=now,
                     before=_plain(before), after=_plain(after))
    if away != me.away_until:
        people.set_away(session=session, person=me, until=away, today=today, now=now,
                        away_from=wanted["away_from"])
    if before:
        me.checkin_schedule = schedule
        for key, value in after.items():
            if key in _MINE:
                setattr(me, _MINE[key], value)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
