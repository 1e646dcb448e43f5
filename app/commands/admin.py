"""``okr secrets rotate``, ``okr workspace purge|enable`` and ``okr person erase``: the
operator's tools for keys, uninstalled workspaces and erasure (docs/data-retention.md)."""

from __future__ import annotations

import click

from app.bootstrap import utcnow
from app.commands.context import Obj, opened, pass_obj, workspace_option
from app.config import Settings
from app.db import unit_of_work
from app.services.tenancy import erasure, retention, rotation, workspaces
from app.services.tenancy.secrets import SecretKeyMissing, TokenCipher, require_key


def require_secret_key(settings: Settings) -> None:
    """One line and exit 1 when OAuth would run without OKR_SECRET_KEY."""
    try:
        require_key(settings)
    except SecretKeyMissing as exc:
        raise click.ClickException(str(exc)) from None


@click.group("secrets")
def secrets_group() -> None:
    """Stored secrets (Slack tokens, tracker credentials)."""


@secrets_group.command("rotate")
@pass_obj
def secrets_rotate(obj: Obj) -> None:
    """Re-encrypt every stored secret with OKR_SECRET_KEY.

    Put the previous key in OKR_SECRET_KEY_OLD (comma-separated for several) and the new one
    in OKR_SECRET_KEY, run this, then remove OKR_SECRET_KEY_OLD. Safe to repeat."""
    settings = Settings()
    if not settings.secret_key:
        raise click.ClickException("set OKR_SECRET_KEY to the new key (and the previous one in "
                                   "OKR_SECRET_KEY_OLD) first")
    cipher = TokenCipher.from_settings(settings)
    try:
        with unit_of_work(obj.container.session_factory) as s:
            report = rotation.rotate(session=s, cipher=cipher)
    except RuntimeError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    for table, counts in report.counts.items():
        click.echo(f"{table}: {counts['rotated']} re-encrypted, {counts['encrypted']} "
                   f"encrypted from clear text, {counts['current']} already current")
    click.echo(f"done: {report.total('rotated') + report.total('encrypted')} secrets rewritten")


@click.group("workspace")
def workspace_group() -> None:
    """Workspaces that uninstalled the app: purge their data, or serve them again."""


@workspace_group.command("purge")
@workspace_option()
@click.option("--now", "immediately", is_flag=True,
              help="Purge the --workspace now, without waiting for OKR_RETENTION_DAYS.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (with --now).")
@pass_obj
def workspace_purge(obj: Obj, workspace_ref: str | None, immediately: bool, yes: bool) -> None:
    """Delete the data of uninstalled workspaces whose retention period is over (what the
    scheduler does on its own); with --workspace X --now, delete X's data at once."""
    now = utcnow()
    if immediately and not workspace_ref:
        raise click.UsageError("--now needs --workspace (the workspace to delete)")
    factory = obj.container.session_factory
    if not workspace_ref:
        done = retention.purge_due(factory, now)
    else:
        with unit_of_work(factory) as s:
            ws = workspaces.by_ref(session=s, ref=workspace_ref)
            if ws is None:
                raise click.ClickException(f"no workspace {workspace_ref!r}")
            ws_id, name, active = ws.id, ws.name, ws.disabled_at is None
        if immediately and active and not yes:
            click.confirm(f"{name} has not uninstalled the app: delete all its data now?",
                          abort=True)
        with unit_of_work(factory) as s:
            one = retention.purge(session=s, workspace_id=ws_id, now=now,
                                  only_due=not immediately)
        done = [one] if one else []
        if not done:
            click.echo(f"{name}: its retention period is not over (use --now to purge it now)")
    for purged in done:
        click.echo(f"purged {purged.name} (id {purged.workspace_id}): {purged.total} rows")
    if not done and not workspace_ref:
        click.echo("nothing to purge")


@workspace_group.command("enable")
@workspace_option()
@pass_obj
def workspace_enable(obj: Obj, workspace_ref: str | None) -> None:
    """Serve a workspace that uninstalled the app again and cancel its purge (a reinstall
    with a new SLACK_BOT_TOKEN; OAuth reinstalls do this by themselves)."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as ctx:
        changed = retention.enable(session=ctx.session, ws=ctx.ws, now=now, actor_label="cli")
        name = ctx.ws.name
    click.echo(f"{name}: enabled, purge cancelled" if changed else f"{name} is not disabled")


@click.group("person")
def person_group() -> None:
    """People's personal data."""


@person_group.command("erase")
@click.argument("slack_id")
@workspace_option()
@click.option("--notes", is_flag=True, help="Also blank the notes and other texts they wrote.")
@pass_obj
def person_erase(obj: Obj, slack_id: str, workspace_ref: str | None, notes: bool) -> None:
    """Erase a person's personal data (name, e-mail, time zone, Slack id); their check-ins
    and scores stay, attributed to an anonymous key."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as ctx:
        done = erasure.erase(session=ctx.session, workspace_id=ctx.ws.id,
                             slack_id=slack_id.strip(), now=now, notes=notes)
    parts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(done.counts.items()) if v)
    click.echo(f"erased: now {done.key}" + (f" ({parts})" if parts else ""))


COMMANDS = [secrets_group, workspace_group, person_group]
