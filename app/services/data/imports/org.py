"""Writing an import file's organisation: settings, cycles, people and teams.

See :mod:`~app.services.data.imports.apply` for the upsert rules these steps follow.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.calendar.phases import imported_phase
from app.models import Cycle, Person, Team, TeamMember, Workspace
from app.services.data.bulk import bulk_insert, bulk_update
from app.services.data.imports import apply
from app.services.data.imports.apply import Context, Entry, Spec
from app.services.data.imports.checks import Document, Problem
from app.services.data.imports.schema import TeamIn
from app.services.tenancy import binding

CYCLE = Spec("cycles", "cycle", Cycle, "name",
             {"start": "start_date", "end": "end_date", "phase": "phase"})
PERSON = Spec("people", "person", Person, "slack_id",
              {"name": "name", "tz": "tz", "email": "email", "admin": "is_admin",
               "active": "active", "away_until": "away_until", "checkin": "checkin_schedule",
               "away_from": "away_from", "work_days": "work_days", "work_hours": "work_hours",
               "holidays": "holiday_calendar"},
              stamps=("created_at",))
TEAM = Spec("teams", "team", Team, "key",
            {"name": "name", "kind": "kind", "channel": "channel_id",
             "checkin": "checkin_schedule", "digest": "digest_schedule",
             "members_from": "members_from", "work_days": "work_days",
             "work_hours": "work_hours", "holidays": "holiday_calendar",
             "digest_names": "digest_names"},
            refs={"parent": ("parent_id", "teams"), "lead": ("lead_id", "people")},
            deferred=frozenset({"parent"}))

_SETTINGS = {"name": "name", "slack_team": "slack_team_id",
             "fiscal_year_start_month": "fiscal_year_start_month",
             "timezone": "timezone", "timeline": "timeline_preset",
             "holidays": "holiday_country", "holiday_dates": "holiday_dates",
             "checkin": "checkin_schedule", "digest": "digest_schedule",
             "work_days": "work_days", "work_hours": "work_hours"}


def slack_team_problems(session: Session, workspace: Workspace, doc: Document) -> list[Problem]:
    """``settings.slack_team`` binds the workspace to that team: only if it is unbound (or
    already that team's) and the team has no other workspace. A binding is never removed."""
    if doc.settings is None or "slack_team" not in doc.settings.model_fields_set:
        return []
    team = doc.settings.slack_team
    if team is None:
        return [Problem("settings.slack_team", "give a Slack team id (T...); a workspace's "
                        "team cannot be removed by an import")]
    reason = binding.import_problem(session=session, workspace=workspace, team_id=team)
    return [Problem("settings.slack_team", reason)] if reason else []


def apply_settings(ctx: Context, doc: Document) -> None:
    if doc.settings is None:
        return
    s = doc.settings
    ws = ctx.workspace
    wanted: dict[str, Any] = {}
    for name in s.model_fields_set:
        value = getattr(s, name)
        if name in ("checkin", "digest") and value is not None:
            value = value.stored()
        elif name == "holiday_dates" and value is not None:
            value = sorted(d.isoformat() for d in value)
        elif name == "holidays" and value is not None:
            value = value.upper()
        wanted[name] = value
    before = {n: getattr(ws, _SETTINGS[n]) for n in wanted
              if getattr(ws, _SETTINGS[n]) != wanted[n]}
    if not before:
        return
    after = {n: wanted[n] for n in before}
    for name, value in after.items():
        setattr(ws, _SETTINGS[name], value)
    ctx.session.flush()
    ctx.audit("import.update", "workspace", str(ws.id), before, after)
    ctx.summary.settings_updated = True


def apply_cycles(ctx: Context, doc: Document) -> None:
    today = ctx.now.date()
    entries = []
    for _, c in doc.cycles:
        values = {"start": c.start, "end": c.end,
                  "phase": c.phase or imported_phase(c.start, c.end, today).value}
        given = {"start", "end"} | ({"phase"} if c.phase is not None else set())
        entries.append(Entry(c.name, values, frozenset(given)))
    apply.upsert(ctx, CYCLE, entries, apply.load_existing(ctx, CYCLE))


def apply_people(ctx: Context, doc: Document) -> None:
    default_tz = ctx.workspace.timezone or "UTC"
    entries = []
    for _, p in doc.people:
        values = {
            "name": p.name or p.slack_id, "tz": p.tz or default_tz, "email": p.email,
            "admin": bool(p.admin), "active": True if p.active is None else p.active,
            "away_until": p.away_until, "away_from": p.away_from,
            "checkin": p.checkin.stored() if p.checkin is not None else None,
            "work_days": p.work_days, "work_hours": p.work_hours, "holidays": p.holidays,
        }
        given = frozenset(p.model_fields_set - {"slack_id"})
        entries.append(Entry(p.slack_id, values, given))
    result = apply.upsert(ctx, PERSON, entries, apply.load_existing(ctx, PERSON))
    # Deactivation keeps its timestamp in step with the flag.
    stamps = [{"id": row_id, "deactivated_at": None if after["active"] else ctx.now}
              for row_id, _, after in result.updated if "active" in after]
    stamps += [{"id": ctx.ids["people"][e.key], "deactivated_at": ctx.now}
               for e in result.created if not e.values["active"]]
    bulk_update(ctx.session, Person, stamps)


def apply_teams(ctx: Context, doc: Document) -> None:
    ctx.ids.setdefault("teams", apply.key_ids(ctx, Team, "key"))
    if not doc.teams:
        return
    team_key = ctx.keys("teams")
    person_key = ctx.keys("people")
    members: dict[str, set[str]] = {}
    for team_id, person_id in ctx.session.execute(
        select(TeamMember.team_id, TeamMember.person_id).where(
            TeamMember.workspace_id == ctx.workspace.id)
    ):
        members.setdefault(team_key[team_id], set()).add(person_key[person_id])
    existing = apply.load_existing(ctx, TEAM)
    for key, values in existing.items():
        values["members"] = sorted(members.get(key, ()))
    entries = []
    for _, t in doc.teams:
        had = set(members.get(t.id, ()))
        values = {
            "name": t.name or t.id, "kind": t.kind or "team", "parent": t.parent,
            "lead": t.lead, "channel": t.channel,
            "checkin": t.checkin.stored() if t.checkin is not None else None,
            "digest": t.digest.stored() if t.digest and t.digest.schedule_given() else None,
            "digest_names": t.digest.names is not False if t.digest is not None else True,
            "members_from": t.members_from.stored() if t.members_from is not None else None,
            "work_days": t.work_days, "work_hours": t.work_hours, "holidays": t.holidays,
            # Additive by default: people already in the team stay when the file does not
            # list them; "replace" makes the list exact.
            "members": sorted(set(t.members or ()) if t.members_mode == "replace"
                              else had | set(t.members or ())),
        }
        entries.append(Entry(t.id, values, _team_given(t)))
    result = apply.upsert(ctx, TEAM, entries, existing)
    teams = ctx.ids["teams"]
    apply.write_deferred(ctx, TEAM, result,
                         lambda _name, key: {"parent_id": teams[key] if key is not None else None})
    new_pairs = [
        {"workspace_id": ctx.workspace.id, "team_id": teams[t.id],
         "person_id": ctx.ids["people"][slack_id]}
        for _, t in doc.teams
        for slack_id in dict.fromkeys(t.members or ())
        if slack_id not in members.get(t.id, set())
    ]
    if new_pairs:
        bulk_insert(ctx.session, TeamMember, new_pairs)
    _remove_unlisted(ctx, doc, members)


def _team_given(t: TeamIn) -> frozenset[str]:
    """The team fields the file sets; ``digest: {names: false}`` alone keeps the schedule."""
    given = set(t.model_fields_set - {"id", "members_mode"})
    if t.digest is not None:
        if "names" in t.digest.model_fields_set:
            given.add("digest_names")
        if not t.digest.schedule_given():
            given.discard("digest")
    return frozenset(given)


def _remove_unlisted(ctx: Context, doc: Document, members: dict[str, set[str]]) -> None:
    """``members_mode: replace``: people the file does not list leave the team (their
    check-ins and key results stay; the team's audit entry shows the members before and
    after)."""
    people = ctx.ids["people"]
    for _, t in doc.teams:
        if t.members_mode != "replace":
            continue
        gone = [people[sid] for sid in members.get(t.id, set()) - set(t.members or ())]
        if gone:
            ctx.session.execute(delete(TeamMember).where(
                TeamMember.workspace_id == ctx.workspace.id,
                TeamMember.team_id == ctx.ids["teams"][t.id], TeamMember.person_id.in_(gone)))
