"""``/okr link <url> [kr]`` and ``/okr unlink <url> [kr]``: issues and merge requests that
count toward an ``issues`` key result."""

from __future__ import annotations

import logging

from slack_bolt import App

from app.domain import LinkProgress
from app.services.errors import InvalidValue
from app.services.links import attach, linking
from app.services.links import sync as issue_sync
from app.services.links.linking import LINK_USAGE
from blocks.common import escape
from handlers.context import Env
from handlers.router import CommandRequest, Reply, Subcommands

log = logging.getLogger(__name__)
subcommand = Subcommands()


def register(app: App, env: Env) -> None:
    """Only ``/okr`` subcommands here."""
    subcommand.install()


def slack_url(arg: str) -> str:
    """Slack may send a link as ``<https://...>`` or ``<https://...|label>``."""
    arg = arg.strip()
    if arg.startswith("<") and arg.endswith(">"):
        arg = arg[1:-1].split("|", 1)[0]
    return arg


def _checked_url(url: str) -> str:
    """Validate the link's shape early so a bad one is refused before anything else is looked
    up (its host is checked against the workspace's allow-list when linking); the message
    repeats what was typed, escaped so it cannot format or mention anyone."""
    try:
        attach.parse(url, gitlab_hosts=None)
    except InvalidValue as exc:
        raise InvalidValue(escape(exc.message), field="url") from exc
    return url


def _summary(p: LinkProgress) -> str:
    return (f"*{escape(p.kr_title)}* (`{escape(p.kr_key)}`) now has {p.closed} of {p.total} "
            f"done: score {p.score:.0%}")


def _args(req: CommandRequest, verb: str) -> tuple[str, str | None]:
    if not req.args or len(req.args) > 2:
        raise InvalidValue(f"Usage: `/okr {verb} {LINK_USAGE}`")
    return (_checked_url(slack_url(req.args[0])),
            req.args[1] if len(req.args) == 2 else None)


@subcommand("link", help="Count an issue, merge or pull request toward a key result",
            usage=LINK_USAGE, slow=True, order=60)
def link(req: CommandRequest) -> Reply:
    url, key = _args(req, "link")
    with req.session() as tx:
        done = linking.link(session=tx, workspace_id=req.workspace_id, actor=req.person,
                            actor_label=f"slack:{req.person.slack_id}", url=url, kr_key=key,
                            now=req.now, gitlab_hosts=req.settings.gitlab_hosts)
    if not done.created:
        return Reply(f"<{escape(done.url)}> is already linked to `{escape(done.kr_key)}`.")
    # Ask the tracker for the state right away (we are past the ack: slow=True), briefly;
    # a webhook or the daily reconciliation fills it in otherwise.
    note = ""
    try:
        report = issue_sync.run(
            session_factory=req.env.session_factory, settings=req.settings, now=req.now,
            link_ids=[done.link_id], prune=False,
            client_factory=issue_sync.default_client_factory(
                req.settings, max_wait=5.0, max_attempts=1, timeout=(3.0, 5.0)))
        if report.errors or report.missing:
            note = ("\nI could not read its state yet, so it counts as open until its "
                    "tracker tells us otherwise.")
    except Exception as exc:  # the link is made; its state can wait for the next sync
        log.warning("attach.fetch_failed", extra={"error": type(exc).__name__})
    with req.session() as tx:
        progress = linking.progress(session=tx, workspace_id=req.workspace_id,
                                    kr_key=done.kr_key)
    summary = _summary(progress) if progress is not None else ""
    return Reply(f":link: Linked <{escape(done.url)}>. {summary}.{note}")


@subcommand("unlink", help="Stop counting an issue toward a key result", usage=LINK_USAGE,
            order=61)
def unlink(req: CommandRequest) -> Reply:
    url, key = _args(req, "unlink")
    with req.session() as tx:
        removed, progress = linking.unlink(
            session=tx, workspace_id=req.workspace_id, actor=req.person,
            actor_label=f"slack:{req.person.slack_id}", url=url, kr_key=key, now=req.now,
            gitlab_hosts=req.settings.gitlab_hosts)
    return Reply(f"Unlinked <{escape(removed)}>. {_summary(progress)}.")
