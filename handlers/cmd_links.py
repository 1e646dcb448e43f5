"""``/okr link <url> [kr]`` and ``/okr unlink <url> [kr]``: issues and merge requests that
count toward an ``issues`` key result."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.models import KeyResult
from app.services import access
from app.services.errors import InvalidValue, NotFound
from app.services.links import attach, lookup
from app.services.links import sync as issue_sync
from app.services.okrs import report as okrs
from handlers.router import CommandRequest, Reply, subcommand

log = logging.getLogger(__name__)

LINK_USAGE = "<issue or merge request URL> [KR id]"


def slack_url(arg: str) -> str:
    """Slack may send a link as ``<https://...>`` or ``<https://...|label>``."""
    arg = arg.strip()
    if arg.startswith("<") and arg.endswith(">"):
        arg = arg[1:-1].split("|", 1)[0]
    return arg


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _checked_url(url: str, req: CommandRequest) -> str:
    """Validate early so a bad link is refused before anything else is looked up; the
    message repeats what was typed, escaped so it cannot format or mention anyone."""
    try:
        attach.parse(url, gitlab_hosts=req.settings.gitlab_hosts)
    except InvalidValue as exc:
        raise InvalidValue(_escape(exc.message), field="url") from exc
    return url


def _named_kr(s: Session, req: CommandRequest, key: str) -> KeyResult:
    kr = okrs.kr_by_key(session=s, workspace_id=req.workspace_id, key=key)
    if kr is None:
        raise NotFound(f"There is no key result `{key}`. `/okr mine` lists yours with their ids.")
    return kr


def _pick_for_link(s: Session, req: CommandRequest, key: str | None) -> KeyResult:
    if key:
        return _named_kr(s, req, key)
    mine = lookup.open_issue_krs(session=s, workspace_id=req.workspace_id,
                                      owner_id=req.person.id)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise InvalidValue("You own no open key result that counts issues: name the one to link "
                           f"to, e.g. `/okr link {LINK_USAGE}`.")
    raise InvalidValue("You own several key results that count issues: name one, e.g. "
                       f"`/okr link <url> {mine[0].key}`. Yours: "
                       + ", ".join(f"`{k.key}`" for k in mine[:10]))


def _summary(s: Session, kr: KeyResult) -> str:
    closed, total, score = lookup.progress(
        attach.for_kr(session=s, workspace_id=kr.workspace_id, kr_id=kr.id))
    return f"*{kr.title}* (`{kr.key}`) now has {closed} of {total} done: score {score:.0%}"


def _args(req: CommandRequest, verb: str) -> tuple[str, str | None]:
    if not req.args or len(req.args) > 2:
        raise InvalidValue(f"Usage: `/okr {verb} {LINK_USAGE}`")
    return (_checked_url(slack_url(req.args[0]), req),
            req.args[1] if len(req.args) == 2 else None)


@subcommand("link", help="Count an issue, merge or pull request toward a key result",
            usage=LINK_USAGE, slow=True, order=60)
def link(req: CommandRequest) -> Reply:
    url, key = _args(req, "link")
    with req.session() as s:
        kr = _pick_for_link(s, req, key)
        access.require_edit_kr(session=s, actor=req.person, kr=kr)
        row, created = attach.add(session=s, workspace_id=req.workspace_id, kr=kr, url=url,
                                 now=req.now, actor_label=f"slack:{req.person.slack_id}",
                                 actor_id=req.person.id, gitlab_hosts=req.settings.gitlab_hosts)
        link_id, link_url, kr_id = row.id, row.url, kr.id
    if not created:
        return Reply(f"<{link_url}> is already linked to `{kr.key}`.")
    # Ask the tracker for the state right away (we are past the ack: slow=True), briefly;
    # a webhook or the daily reconciliation fills it in otherwise.
    note = ""
    try:
        report = issue_sync.run(
            session_factory=req.env.session_factory, settings=req.settings, now=req.now,
            link_ids=[link_id], prune=False,
            client_factory=issue_sync.default_client_factory(
                req.settings, max_wait=5.0, max_attempts=1, timeout=(3.0, 5.0)))
        if report.errors or report.missing:
            note = ("\nI could not read its state yet, so it counts as open until GitLab or "
                    "GitHub tells us otherwise.")
    except Exception as exc:  # the link is made; its state can wait for the next sync
        log.warning("attach.fetch_failed", extra={"error": type(exc).__name__})
    with req.session() as s:
        fresh = s.get(KeyResult, kr_id)
        summary = _summary(s, fresh) if fresh is not None else ""
    return Reply(f":link: Linked <{link_url}>. {summary}.{note}")


@subcommand("unlink", help="Stop counting an issue toward a key result", usage=LINK_USAGE,
            order=61)
def unlink(req: CommandRequest) -> Reply:
    url, key = _args(req, "unlink")
    with req.session() as s:
        if key:
            kr = _named_kr(s, req, key)
        else:
            linking = lookup.krs_linking(session=s, workspace_id=req.workspace_id, url=url,
                                        gitlab_hosts=req.settings.gitlab_hosts)
            if not linking:
                raise NotFound(f"<{url}> is not linked to any key result.")
            if len(linking) > 1:
                raise InvalidValue("That link counts toward several key results: name one, "
                                   "e.g. `/okr unlink <url> " + linking[0].key + "`. They are: "
                                   + ", ".join(f"`{k.key}`" for k in linking[:10]))
            kr = linking[0]
        access.require_edit_kr(session=s, actor=req.person, kr=kr)
        row = attach.remove(session=s, workspace_id=req.workspace_id, kr=kr, url=url,
                           now=req.now, actor_label=f"slack:{req.person.slack_id}",
                           actor_id=req.person.id, gitlab_hosts=req.settings.gitlab_hosts)
        removed = row.url
        summary = _summary(s, kr)
    return Reply(f"Unlinked <{removed}>. {summary}.")
