"""``okr people sync``: read the Slack directory (users.list) into people now."""

from __future__ import annotations

from datetime import datetime

import click
from slack_sdk.errors import SlackApiError

from app.bootstrap import utcnow
from app.commands import teams
from app.commands.admin import require_secret_key
from app.commands.context import Obj, opened, pass_obj, workspace_option
from app.config import Settings
from app.services.tenancy import directory, teams_sync
from scheduler.clients import client_factory

HINTS = {
    "missing_scope": "reinstall the app so that it has the scopes in manifest.yaml",
    "invalid_auth": "the bot token is not valid (SLACK_BOT_TOKEN, or install the app again)",
    "not_authed": "no bot token was sent (set SLACK_BOT_TOKEN or install the app)",
    "token_revoked": "the token was revoked: install the app again",
    "account_inactive": "the token was revoked: install the app again",
}


@click.group("people")
def people_group() -> None:
    """People of a workspace, as Slack knows them."""


@people_group.command("sync")
@workspace_option()
@pass_obj
def people_sync(obj: Obj, workspace_ref: str | None) -> None:
    """Read Slack's directory into people: names, display names, time zones, emails and
    deactivations, then bring the teams that follow a channel or a user group in step (the
    daily sync does the same). People's own settings are kept."""
    require_secret_key(Settings())
    container = obj.container
    now = utcnow()
    with opened(container, workspace_ref, now) as ctx:
        ws_id, name = ctx.ws.id, ctx.ws.name
    client = client_factory(container.settings, container.engine,
                            container.session_factory)(ws_id)
    if client is None:
        raise click.ClickException(f"no Slack token for {name}: set SLACK_BOT_TOKEN or "
                                   f"install the app to that workspace")
    try:
        counts = directory.sync(factory=container.session_factory, workspace_id=ws_id,
                                client=client, now=now, actor_label="cli")
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown error")
        hint = HINTS.get(error)
        raise click.ClickException(f"Slack refused users.list ({error})"
                                   + (f": {hint}" if hint else "") + "; nothing was changed"
                                   ) from None
    except OSError as exc:
        raise click.ClickException(f"Slack could not be reached ({type(exc).__name__}); "
                                   f"nothing was changed") from None
    click.echo(f"{name}: {counts.summary()}")
    _refresh_teams(obj, ws_id, client, now)


def _refresh_teams(obj: Obj, ws_id: int, client: teams_sync.SlackReader, now: datetime) -> None:
    try:
        reports = teams_sync.refresh_all(obj.container.session_factory, lambda _ws: client,
                                         now=now, workspace_ids=[ws_id])
    except OSError as exc:
        raise click.ClickException(f"Slack could not be reached for the teams that follow it "
                                   f"({type(exc).__name__}); people were synced") from None
    report = reports.get(ws_id)
    if report is None:
        return
    click.echo(f"teams following Slack: {report.teams} refreshed, {report.added} members "
               f"added, {report.removed} removed")
    teams.echo_failed(report.failed)


COMMANDS = [people_group]
