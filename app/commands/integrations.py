"""``okr token ...``, ``okr link`` / ``okr unlink`` and ``okr sync-issues``."""

from __future__ import annotations

from collections.abc import Callable

import click

from app.bootstrap import utcnow
from app.commands import context
from app.commands.context import Ctx, Obj, opened, pass_obj
from app.models import KeyResult
from app.services.links import attach, hosts
from app.services.links import sync as issue_sync
from app.services.okrs import report as okrs
from app.services.tenancy import tokens

workspace_option = context.workspace_option()


def _kr(c: Ctx, key: str) -> KeyResult:
    kr = okrs.kr_by_key(session=c.session, workspace_id=c.ws.id, key=key)
    if kr is None:
        raise click.ClickException(f"no key result {key!r} in workspace {c.ws.name!r}")
    return kr


@click.group("token")
def token() -> None:
    """Progress-API tokens (one workspace each; only a hash is stored)."""


def _token_command(name: str, *arguments: str) -> Callable[[Callable[..., None]], click.Command]:
    """``okr token NAME ARGUMENTS... [--workspace REF]``; the function gets ``obj`` first."""

    def decorate(func: Callable[..., None]) -> click.Command:
        wrapped = workspace_option(pass_obj(func))
        for argument in reversed(arguments):
            wrapped = click.argument(argument)(wrapped)
        return token.command(name)(wrapped)

    return decorate


@_token_command("create", "name")
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="read, checkin or read:private (repeat it; default: read and checkin).")
@click.option("--expires", default=None, metavar="90d|YYYY-MM-DD",
              help="Stop working after so many days, or at 00:00 UTC on a date.")
def token_create(obj: Obj, name: str, workspace_ref: str | None, scopes: tuple[str, ...],
                 expires: str | None) -> None:
    """Create a token; its secret is printed once."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        new = tokens.create(session=c.session, workspace_id=c.ws.id, name=name, now=now,
                            scopes=scopes, expires_at=tokens.parse_expiry(expires, now))
        token_id, prefix = new.token.id, new.token.prefix
        granted, until = new.token.scopes, new.token.expires_at
    click.echo(new.secret)
    expiry = f"expires {until:%Y-%m-%d %H:%M} UTC" if until else "does not expire"
    click.echo(f"token {token_id} ({prefix}...) for workspace {c.ws.name!r}, scopes {granted}, "
               f"{expiry}: store it now, it is not shown again", err=True)


@_token_command("list")
def token_list(obj: Obj, workspace_ref: str | None) -> None:
    """Tokens with their prefix, scopes, creation, expiry, last use and revocation."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        lines = []
        for t in tokens.list_tokens(session=c.session, workspace_id=c.ws.id):
            used = f"used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            scopes = f"[{tokens.scope_text(tokens.scopes_of(t))}]" + (
                " (made before scopes)" if t.scopes is None else "")
            expiry = ""
            if t.expires_at is not None:
                expiry = ("  EXPIRED" if tokens.is_expired(t, now) else "  expires") + \
                    f" {t.expires_at:%Y-%m-%d}"
            revoked = "  REVOKED" if t.revoked_at is not None else ""
            lines.append(f"{t.id:>4}  {t.prefix}...  {t.name[:40]:<40}  {scopes}  "
                         f"created {t.created_at:%Y-%m-%d}  {used}{expiry}{revoked}")
    for line in lines or [f"no tokens in workspace {c.ws.name!r} (okr token create NAME)"]:
        click.echo(line)


@_token_command("revoke", "ref")
def token_revoke(obj: Obj, ref: str, workspace_ref: str | None) -> None:
    """Revoke a token by id, prefix or name."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as c:
        revoked = tokens.revoke(session=c.session, workspace_id=c.ws.id, ref=ref, now=now)
        click.echo(f"revoked token {revoked.id} ({revoked.prefix}..., {revoked.name!r})")


@click.command("link")
@click.argument("url")
@click.argument("kr_key", metavar="KR")
@click.option("--weight", type=float, default=None, help="How much this item counts (default 1).")
@click.option("--no-fetch", is_flag=True, help="Do not ask the tracker for its state now.")
@workspace_option
@pass_obj
def link(obj: Obj, url: str, kr_key: str, weight: float | None, no_fetch: bool,
         workspace_ref: str | None) -> None:
    """Link an issue, merge request or pull request to an 'issues' key result."""
    container, now = obj.container, utcnow()
    with opened(container, workspace_ref, now) as c:
        kr = _kr(c, kr_key)
        allowed = hosts.link_hosts(session=c.session, workspace_id=c.ws.id,
                                   settings=container.settings)
        row, created = attach.add(session=c.session, workspace_id=c.ws.id, kr=kr, url=url,
                                 weight=weight, now=now, actor_label="cli",
                                 gitlab_hosts=allowed)
        link_id, link_url, link_weight = row.id, row.url, row.weight
    if created:
        click.echo(f"linked {link_url} -> {kr_key} (weight {link_weight:g})")
    else:
        click.echo(f"{link_url} is already linked to {kr_key} (weight {link_weight:g})")
    if created and not no_fetch:
        report = issue_sync.run(session_factory=container.session_factory,
                                settings=container.settings, now=now, link_ids=[link_id],
                                prune=False,
                                client_factory=issue_sync.default_client_factory(
                                    container.settings, max_wait=10.0, max_attempts=2))
        if report.errors or report.missing:
            click.echo("could not read its state yet (" + "; ".join(
                report.errors + [f"{m} not found" for m in report.missing])
                + "); it counts as open until a webhook or `okr sync-issues` says otherwise",
                err=True)


@click.command("unlink")
@click.argument("url")
@click.argument("kr_key", metavar="KR")
@workspace_option
@pass_obj
def unlink(obj: Obj, url: str, kr_key: str, workspace_ref: str | None) -> None:
    """Remove a link from a key result."""
    container, now = obj.container, utcnow()
    with opened(container, workspace_ref, now) as c:
        kr = _kr(c, kr_key)
        row = attach.remove(session=c.session, workspace_id=c.ws.id, kr=kr, url=url, now=now,
                           actor_label="cli", gitlab_hosts=None)
        click.echo(f"unlinked {row.url} from {kr_key}")


@click.command("sync-issues")
@click.option("--max-wait", type=float, default=900.0, show_default=True,
              help="Seconds we may spend waiting for rate limits per tracker.")
@workspace_option
@pass_obj
def sync_issues(obj: Obj, max_wait: float, workspace_ref: str | None) -> None:
    """Run the saved searches, then ask GitLab, GitHub, Jira and Linear for the state of every
    linked item and apply what changed."""
    container, now = obj.container, utcnow()
    workspace_id = None
    if workspace_ref:
        with opened(container, workspace_ref, now) as c:
            workspace_id = c.ws.id
    report = issue_sync.run(
        session_factory=container.session_factory, settings=container.settings, now=now,
        workspace_id=workspace_id, searches=True,
        client_factory=issue_sync.default_client_factory(container.settings, max_wait=max_wait))
    click.echo(report.summary())
    for ref in report.missing:
        click.echo(f"not found (deleted, moved or no access): {ref}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        raise SystemExit(1)


COMMANDS: list[click.Command] = [token, link, unlink, sync_issues]
