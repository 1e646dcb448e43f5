"""``okr tracker add|list|remove``: a workspace's own tracker connections."""

from __future__ import annotations

import click

from app.bootstrap import utcnow
from app.commands import context
from app.commands.context import Obj, opened, pass_obj
from app.services.links import connection_settings, connections

workspace_option = context.workspace_option()


@click.group("tracker")
def tracker() -> None:
    """A workspace's GitLab, GitHub, Jira and Linear connections: the token its links are
    read with and the secret its webhooks are checked with (both stored encrypted;
    OKR_SECRET_KEY)."""


@tracker.command("add")
@click.argument("provider", type=click.Choice(connections.PROVIDERS))
@click.option("--host", default="", help="The GitLab host links name, e.g. gitlab.example.com "
              "(GitHub: github.com; Jira: the site, e.g. acme.atlassian.net).")
@click.option("--api-url", default=None, help="API base when not the provider's default "
              "(https://<host>/api/v4; GitHub: OKR_GITHUB_API_URL).")
@click.option("--email", "account", default=None,
              help="Jira Cloud: the email of the Atlassian account the API token belongs to.")
@click.option("--token", prompt="Read-only API token (empty for none)", hide_input=True,
              default="", show_default=False,
              help="Prompted for (hidden) when not given; empty for public projects only "
              "(Linear: a personal API key, always needed).")
@click.option("--canceled-counts-as-done", "canceled_done", is_flag=True, default=False,
              help="Linear: an issue in a canceled state counts as done (default: not done).")
@workspace_option
@pass_obj
def tracker_add(obj: Obj, provider: str, host: str, api_url: str | None, account: str | None,
                token: str, canceled_done: bool, workspace_ref: str | None) -> None:
    """Connect a workspace to a tracker; prints its webhook URL path and secret once."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        added = connections.add(session=c.session, settings=c.settings, workspace_id=c.ws.id,
                                provider=provider,
                                host=host or connections.default_host(provider),
                                token=token, api_url=api_url, now=now, actor_label="cli",
                                account=account, canceled_done=canceled_done)
        name = c.ws.name
    click.echo(f"tracker {added.id}: {added.provider} {added.host} for workspace {name!r}")
    click.echo(f"webhook URL: https://<this service>{added.webhook_path}")
    click.echo(f"webhook secret: {added.webhook_secret}")
    click.echo("store the secret in the tracker's webhook settings now: it is not shown again",
               err=True)


@tracker.command("list")
@workspace_option
@pass_obj
def tracker_list(obj: Obj, workspace_ref: str | None) -> None:
    """Connections with their host, API base, token hint and webhook path."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        rows = connections.listing(session=c.session, settings=c.settings,
                                   workspace_id=c.ws.id)
        name = c.ws.name
    for r in rows:
        ident = f"{r.id:>4}" if r.id is not None else " env"
        who = f" ({r.account})" if r.account else ""
        click.echo(f"{ident}  {r.provider:<6}  {r.host:<30}  {r.api_url}  "
                   f"token {r.token_hint or 'none'}{who}  webhook {r.webhook_path or 'none'}"
                   + ("" if r.canceled_done is None else
                      f"  canceled counts as done: {'yes' if r.canceled_done else 'no'}"))
    if not rows:
        click.echo(f"no tracker connections in workspace {name!r} (okr tracker add gitlab "
                   "--host HOST)")


@tracker.command("set")
@click.argument("ref")
@click.option("--webhook-secret", "ask_secret", is_flag=True,
              help="Prompt (hidden) for the tracker's own webhook signing secret: Linear "
              "generates one when its webhook is created.")
@click.option("--canceled-counts-as-done/--canceled-not-done", "canceled_done", default=None,
              help="Linear: whether an issue in a canceled state counts as done.")
@workspace_option
@pass_obj
def tracker_set(obj: Obj, ref: str, ask_secret: bool, canceled_done: bool | None,
                workspace_ref: str | None) -> None:
    """Change a stored connection (by id or host): its webhook secret, the canceled setting."""
    secret = (click.prompt("Webhook signing secret", hide_input=True, err=True)
              if ask_secret else None)
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        row = connection_settings.update(
            session=c.session, settings=c.settings, workspace_id=c.ws.id, ref=ref, now=now,
            actor_label="cli", webhook_secret=secret, canceled_done=canceled_done)
        click.echo(f"updated tracker {row.id} ({row.provider} {row.host})"
                   + ("" if row.provider != "linear" else
                      f"; canceled counts as done: "
                      f"{'yes' if row.canceled_counts_as_done else 'no'}"))


@tracker.command("remove")
@click.argument("ref")
@workspace_option
@pass_obj
def tracker_remove(obj: Obj, ref: str, workspace_ref: str | None) -> None:
    """Remove a stored connection by id or host; its token and secret are deleted."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        row = connections.remove(session=c.session, workspace_id=c.ws.id, ref=ref, now=now,
                                 actor_label="cli")
        click.echo(f"removed tracker {row.id} ({row.provider} {row.host})")


COMMANDS: list[click.Command] = [tracker]
