"""Team membership by hand: add, remove and set a lead, each audited and in one workspace.

Removing someone from a team deletes only the membership row: their check-ins, key results
and objectives stay as they are. Leads of the team (or of a team above it) and OKR admins may
change a team's members; the command line acts as an operator (``actor=None``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from app.models import Person, Team, TeamMember
from app.services import audit
from app.services.access import Principal, led_team_ids
from app.services.errors import InvalidValue, NotAllowed, NotFound


@dataclass(frozen=True)
class Change:
    """What a membership change did: Slack ids added, removed, and not known here."""

    team_key: str
    team_name: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def find_team(*, session: Session, workspace_id: int, ref: str) -> Team:
    """A team by key, else by name (either case-insensitive)."""
    ref = ref.strip()
    if not ref:
        raise InvalidValue("name the team (its key or its name)", field="team")
    found = session.scalars(select(Team).where(
        Team.workspace_id == workspace_id,
        or_(func.lower(Team.key) == ref.lower(), func.lower(Team.name) == ref.lower()),
    ).order_by(Team.id)).all()
    exact = [t for t in found if t.key.lower() == ref.lower()]
    if exact:
        return exact[0]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidValue(f"more than one team is called {ref!r}: use its key", field="team")
    raise NotFound(f"no team {ref!r}")


def require_manage(*, session: Session, workspace_id: int, actor: Principal | None,
                   team: Team) -> None:
    """Admins and leads of the team or of a team above it; ``None`` is the operator."""
    if actor is None or actor.is_admin:
        return
    if team.id not in led_team_ids(session=session, workspace_id=workspace_id,
                                   person_id=actor.id):
        raise NotAllowed(f"only the lead of {team.name} (or of a team above it) or an OKR "
                         "admin can change its members")


def _people(session: Session, workspace_id: int, slack_ids: Iterable[str]) -> dict[str, Person]:
    ids = list(dict.fromkeys(s.strip() for s in slack_ids if s.strip()))
    if not ids:
        return {}
    return {p.slack_id: p for p in session.scalars(select(Person).where(
        Person.workspace_id == workspace_id, Person.slack_id.in_(ids)))}


def _member_ids(session: Session, workspace_id: int, team_id: int) -> set[int]:
    return set(session.scalars(select(TeamMember.person_id).where(
        TeamMember.workspace_id == workspace_id, TeamMember.team_id == team_id)))


def _audit(session: Session, team: Team, action: str, who: Sequence[str], *, now: datetime,
           actor_label: str, actor_id: int | None) -> None:
    """``team.add`` records who joined (after), ``team.remove`` who left (before)."""
    if not who:
        return
    names = {"members": list(who)}
    audit.record(session=session, workspace_id=team.workspace_id, actor_label=actor_label,
                 actor_id=actor_id, action=action, subject_type="team", subject_key=team.key,
                 now=now, before=names if action == "team.remove" else None,
                 after=None if action == "team.remove" else names)


def add(*, session: Session, workspace_id: int, team: Team, slack_ids: Iterable[str],
        now: datetime, actor_label: str, actor_id: int | None = None) -> Change:
    ids = list(dict.fromkeys(slack_ids))
    people = _people(session, workspace_id, ids)
    have = _member_ids(session, workspace_id, team.id)
    change = Change(team.key, team.name)
    for sid in ids:
        person = people.get(sid)
        if person is None:
            change.unknown.append(sid)
        elif person.id in have:
            change.unchanged.append(sid)
        else:
            session.add(TeamMember(workspace_id=workspace_id, team_id=team.id,
                                   person_id=person.id))
            have.add(person.id)
            change.added.append(sid)
    session.flush()
    _audit(session, team, "team.add", change.added, now=now, actor_label=actor_label,
           actor_id=actor_id)
    return change


def remove(*, session: Session, workspace_id: int, team: Team, slack_ids: Iterable[str],
           now: datetime, actor_label: str, actor_id: int | None = None) -> Change:
    """Delete the membership rows only: what the people wrote stays."""
    ids = list(dict.fromkeys(slack_ids))
    people = _people(session, workspace_id, ids)
    have = _member_ids(session, workspace_id, team.id)
    change = Change(team.key, team.name)
    gone: list[int] = []
    for sid in ids:
        person = people.get(sid)
        if person is None:
            change.unknown.append(sid)
        elif person.id in have:
            gone.append(person.id)
            change.removed.append(sid)
        else:
            change.unchanged.append(sid)
    if gone:
        session.execute(delete(TeamMember).where(
            TeamMember.workspace_id == workspace_id, TeamMember.team_id == team.id,
            TeamMember.person_id.in_(gone)))
        session.expire(team, ["members"])
    _audit(session, team, "team.remove", change.removed, now=now, actor_label=actor_label,
           actor_id=actor_id)
    return change


def replace(*, session: Session, workspace_id: int, team: Team, slack_ids: Iterable[str],
            now: datetime, actor_label: str, actor_id: int | None = None) -> Change:
    """Make the team's members exactly these people (those known here)."""
    ids = list(dict.fromkeys(slack_ids))
    current = {p.slack_id for p in session.scalars(select(Person).join(
        TeamMember, TeamMember.person_id == Person.id).where(
        TeamMember.workspace_id == workspace_id, TeamMember.team_id == team.id))}
    added = add(session=session, workspace_id=workspace_id, team=team, slack_ids=ids, now=now,
                actor_label=actor_label, actor_id=actor_id)
    removed = remove(session=session, workspace_id=workspace_id, team=team,
                     slack_ids=sorted(current - set(ids)), now=now,
                     actor_label=actor_label, actor_id=actor_id)
    return Change(team.key, team.name, added=added.added, removed=removed.removed,
                  unchanged=added.unchanged, unknown=added.unknown)


def set_lead(*, session: Session, workspace_id: int, team: Team, slack_id: str,
             now: datetime, actor_label: str, actor_id: int | None = None) -> Change:
    """The person leads the team (and becomes a member if they were not)."""
    person = _people(session, workspace_id, [slack_id]).get(slack_id)
    if person is None:
        raise NotFound(f"{slack_id} is not known here yet (sync the directory or import "
                       "them first)")
    change = add(session=session, workspace_id=workspace_id, team=team, slack_ids=[slack_id],
                 now=now, actor_label=actor_label, actor_id=actor_id)
    if team.lead_id == person.id:
        return change
    before = session.scalar(select(Person.slack_id).where(Person.id == team.lead_id)) \
        if team.lead_id is not None else None
    team.lead_id = person.id
    session.flush()
    audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                 actor_id=actor_id, action="team.lead", subject_type="team",
                 subject_key=team.key, now=now, before={"lead": before},
                 after={"lead": slack_id})
    return change


def change(*, session: Session, workspace_id: int, actor: Principal | None, verb: str,
           slack_ids: Sequence[str], team_ref: str, now: datetime, actor_label: str) -> Change:
    """One ``add``, ``remove`` or ``lead`` on a team named by key or name, authorized first."""
    team = find_team(session=session, workspace_id=workspace_id, ref=team_ref)
    require_manage(session=session, workspace_id=workspace_id, actor=actor, team=team)
    actor_id = actor.id if actor is not None else None
    if verb == "lead":
        if len(slack_ids) != 1:
            raise InvalidValue("a team has one lead: name one person", field="people")
        return set_lead(session=session, workspace_id=workspace_id, team=team,
                        slack_id=slack_ids[0], now=now, actor_label=actor_label,
                        actor_id=actor_id)
    do = {"add": add, "remove": remove}.get(verb)
    if do is None:
        raise InvalidValue(f"unknown change {verb!r}: add, remove or lead")
    return do(session=session, workspace_id=workspace_id, team=team, slack_ids=slack_ids,
              now=now, actor_label=actor_label, actor_id=actor_id)
