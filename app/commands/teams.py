"""``okr team add|remove|lead SLACK_ID... TEAM`` and ``okr team sync``: team membership by
hand, and teams that follow a Slack channel or user group brought in step with it."""

from __future__ import annotations

from collections.abc import Iterable

import click
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from app.bootstrap import utcnow
from app.commands.context import Obj, opened, pass_obj, workspace_option
from app.services.tenancy import membership, teams_sync
from scheduler.clients import client_factory


@click.group("team")
def team_group() -> None:
    """Team members: by hand, or following Slack."""


def _change(obj: Obj, verb: str, ids: tuple[str, ...], workspace_ref: str | None) -> None:
    if len(ids) < 2:
        raise click.UsageError("give one or more Slack user ids, then the team's key")
    *people, team = (i.strip() for i in ids)
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as ctx:
        done = membership.change(session=ctx.session, workspace_id=ctx.ws.id, actor=None,
                                 verb=verb, slack_ids=people, team_ref=team, now=now,
                                 actor_label="cli")
    if verb == "lead":
        click.echo(f"{done.team_key}: lead is now {people[0]}")
    for label, who in (("added", done.added), ("removed", done.removed),
                       ("unchanged", done.unchanged), ("not known here", done.unknown)):
        if who:
            click.echo(f"{done.team_key}: {label}: {' '.join(who)}")


@team_group.command("add")
@click.argument("ids", nargs=-1, metavar="SLACK_ID... TEAM")
@workspace_option()
@pass_obj
def team_add(obj: Obj, ids: tuple[str, ...], workspace_ref: str | None) -> None:
    """Add people to a team (by Slack id; the team by key or name)."""
    _change(obj, "add", ids, workspace_ref)


@team_group.command("remove")
@click.argument("ids", nargs=-1, metavar="SLACK_ID... TEAM")
@workspace_option()
@pass_obj
def team_remove(obj: Obj, ids: tuple[str, ...], workspace_ref: str | None) -> None:
    """Remove people from a team; their check-ins and key results stay."""
    _change(obj, "remove", ids, workspace_ref)


@team_group.command("lead")
@click.argument("ids", nargs=-1, metavar="SLACK_ID TEAM")
@workspace_option()
@pass_obj
def team_lead(obj: Obj, ids: tuple[str, ...], workspace_ref: str | None) -> None:
    """Make someone a team's lead (and a member)."""
    _change(obj, "lead", ids, workspace_ref)


@team_group.command("sync")
@workspace_option()
@pass_obj
def team_sync(obj: Obj, workspace_ref: str | None) -> None:
    """Bring teams that follow a Slack channel or user group in step with it."""
    container = obj.container
    now = utcnow()
    with opened(container, workspace_ref, now) as ctx:
        ws_id = ctx.ws.id
    clients = client_factory(container.settings, container.engine, container.session_factory)

    def client_for(workspace_id: int) -> teams_sync.SlackReader | None:
        client = clients(workspace_id)
        if client is not None:  # reads are safe to repeat after Slack's Retry-After
            client.retry_handlers = [RateLimitErrorRetryHandler(max_retry_count=3)]
        return client

    reports = teams_sync.refresh_all(container.session_factory, client_for, now=now,
                                     workspace_ids=[ws_id])
    report = reports.get(ws_id)
    if report is None:
        click.echo("no team follows Slack here (or no Slack token)")
        return
    click.echo(f"{report.teams} teams: {report.added} added, {report.removed} removed, "
               f"{report.unknown} not known here yet")
    echo_failed(report.failed)


def echo_failed(team_keys: Iterable[str]) -> None:
    """One line on stderr per team whose channel or user group Slack would not list."""
    for key in team_keys:
        click.echo(f"{key}: Slack would not list its members (is the app in the channel, "
                   "with the usergroups:read / channels:read scopes?)", err=True)


COMMANDS = [team_group]
