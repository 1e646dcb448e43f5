"""``/okr team add @a @b <team>``, ``/okr team remove @a <team>``, ``/okr team lead @a <team>``:
a team's members by hand, for its leads (and leads above it) and OKR admins."""

from __future__ import annotations

from slack_bolt import App

from app.services.errors import InvalidValue, OkrError
from app.services.tenancy import membership
from blocks.common import escape, escape_once
from handlers.context import Env
from handlers.router import CommandRequest, Reply, Subcommands, user_mention

subcommand = Subcommands()

USAGE = {"add": "@person… TEAM", "remove": "@person… TEAM", "lead": "@person TEAM"}


def register(app: App, env: Env) -> None:
    """Only ``/okr`` subcommands here."""
    subcommand.install()


def parse(verb: str, args: list[str]) -> tuple[list[str], str]:
    """Leading mentions, then the team's key or name (the rest, quotes optional)."""
    people: list[str] = []
    rest = list(args)
    while rest and (uid := user_mention(rest[0])) is not None:
        people.append(uid)
        rest.pop(0)
    team = " ".join(rest).strip()
    if not people or not team:
        raise InvalidValue(f"Usage: `/okr team {verb} {USAGE[verb]}` (mention people with @, "
                           "then the team's key or name)")
    return people, team


def _mentions(ids: list[str]) -> str:
    return ", ".join(f"<@{escape(i)}>" for i in ids)


def _reply(verb: str, change: membership.Change, people: list[str]) -> Reply:
    team = f"*{escape(change.team_name)}* (`{escape(change.team_key)}`)"
    lines = []
    if verb == "lead":
        lines.append(f":crown: {_mentions(people)} now leads {team}.")
        if change.added:
            lines.append("They are now a member too.")
    elif verb == "add":
        if change.added:
            lines.append(f":white_check_mark: Added {_mentions(change.added)} to {team}.")
        if change.unchanged:
            lines.append(f"Already in {team}: {_mentions(change.unchanged)}.")
    else:
        if change.removed:
            lines.append(f":wave: Removed {_mentions(change.removed)} from {team}; their "
                         "check-ins and key results stay.")
        if change.unchanged:
            lines.append(f"Not in {team}: {_mentions(change.unchanged)}.")
    if change.unknown:
        lines.append(f"Not known here yet (no change): {_mentions(change.unknown)}. They are "
                     "added once the directory is synced.")
    return Reply("\n".join(lines) or "Nothing changed.")


def _run(req: CommandRequest, verb: str) -> Reply:
    try:
        people, team = parse(verb, req.args)
        with req.session() as tx:
            change = membership.change(
                session=tx, workspace_id=req.workspace_id, actor=req.person, verb=verb,
                slack_ids=people, team_ref=team, now=req.now,
                actor_label=f"slack:{req.person.slack_id}")
    except OkrError as exc:
        # The message may repeat what was typed (a team name), as Slack escaped it.
        return Reply(escape_once(str(exc)), error=True)
    return _reply(verb, change, people)


@subcommand("team add", help="Add people to a team (its leads and admins)",
            usage=USAGE["add"], order=70)
def team_add(req: CommandRequest) -> Reply:
    return _run(req, "add")


@subcommand("team remove", help="Remove people from a team; their history stays",
            usage=USAGE["remove"], order=71)
def team_remove(req: CommandRequest) -> Reply:
    return _run(req, "remove")


@subcommand("team lead", help="Make someone a team's lead", usage=USAGE["lead"], order=72)
def team_lead(req: CommandRequest) -> Reply:
    return _run(req, "lead")
