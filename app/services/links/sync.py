"""Reconciliation: ask GitLab, GitHub, Jira and Linear for the state of every linked item, so
a webhook that never arrived heals itself (``okr sync-issues`` and a daily scheduler job).

GitLab items are fetched in batches per project (``?iids[]=...``, 100 at a time); GitHub items
one by one through the issues endpoint, which also answers for pull requests; Jira issues one
by one (:mod:`app.services.links.jira`), only with a connection's token; Linear issues one by
one by identifier (:mod:`app.services.links.linear`). Network calls
happen outside any transaction; each item's state is then applied in its own short
transaction through :func:`app.services.links.apply_state`, the same path webhooks take.

Links are grouped by workspace: each workspace's links are fetched with that workspace's own
connection for the host (:func:`app.services.links.connections.for_fetch`) and what comes back
(state, title) is written to that workspace's links only. A link whose host is no longer
allowed for its workspace (:func:`app.services.links.hosts.link_hosts`) is not fetched.

With ``searches=True`` (the daily run, ``okr sync-issues``) the saved searches run first
(:mod:`app.services.links.query_sync`): their items are added or leave, then every link is
checked as usual.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import unit_of_work
from app.models import IssueLink, Workspace
from app.services.links import attach as links
from app.services.links import (
    connections,
    hosts,
    jira,
    jira_keys,
    linear,
    linear_ids,
    query_sync,
)
from app.services.links import state as link_state
from app.services.links import webhooks as webhook_events
from app.services.links.attach import ItemState
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.refs import DELETED

log = logging.getLogger(__name__)

BATCH = 100
Ref = tuple[str, str, str, str, int]  # provider, host, project, kind, number
Group = tuple[int, str, str]  # workspace id, provider, host


@dataclass
class SyncReport:
    checked: int = 0
    changed: int = 0
    checkins: int = 0
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    waited_seconds: float = 0.0
    searches: query_sync.QueryReport | None = None  # the saved searches run first, if any

    def summary(self) -> str:
        text = (f"checked {self.checked} linked item(s): {self.changed} changed state, "
                f"{self.checkins} key result(s) moved; {self.requests} API request(s)")
        if self.waited_seconds:
            text += f", waited {self.waited_seconds:.1f}s for rate limits"
        if self.searches is not None and self.searches.searches:
            text = f"{self.searches.summary()}; {text}"
        return text


ClientFactory = Callable[[connections.Connection], ForgeClient]


def default_client_factory(settings: Settings, **options: Any) -> ClientFactory:
    """Clients for one connection each; ``options`` go to :class:`ForgeClient` (timeouts,
    ``max_wait``, ``max_attempts``, ``sleep``)."""

    options.setdefault("allow_private", settings.allow_private_hosts)

    def make(conn: connections.Connection) -> ForgeClient:
        if conn.provider == linear_ids.PROVIDER:
            return linear.client(conn, **options)
        headers = {"User-Agent": "okr-checkin"}
        if conn.provider == "github":
            headers.update({"Accept": "application/vnd.github+json",
                            "X-GitHub-Api-Version": "2022-11-28"})
            if conn.token:
                headers["Authorization"] = f"Bearer {conn.token}"
        elif conn.provider == "jira":
            headers.update(jira.headers(conn))
        elif conn.token:
            headers["PRIVATE-TOKEN"] = conn.token
        return ForgeClient(provider=conn.provider, base_url=conn.api_url, headers=headers,
                           **options)
    return make


def _refs(session: Session, workspace_id: int | None,
          link_ids: Iterable[int] | None) -> dict[Group, list[Ref]]:
    # A disabled (uninstalled) workspace's links are not fetched: nothing is done for it.
    query = select(IssueLink.workspace_id, IssueLink.provider, IssueLink.host,
                   IssueLink.project, IssueLink.kind, IssueLink.number).distinct().join(
        Workspace, Workspace.id == IssueLink.workspace_id).where(Workspace.disabled_at.is_(None))
    if workspace_id is not None:
        query = query.where(IssueLink.workspace_id == workspace_id)
    if link_ids is not None:
        query = query.where(IssueLink.id.in_(list(link_ids)))
    refs: dict[Group, set[Ref]] = defaultdict(set)
    for ws, provider, host, project, kind, number in session.execute(query):
        # GitHub numbers are shared by issues and pull requests: fetch each number once.
        refs[(ws, provider, host)].add(
            (provider, host, project, "issue" if provider == "github" else kind, number))
    return {group: sorted(items) for group, items in sorted(refs.items())}


def _connection(session: Session, settings: Settings,
                group: Group) -> connections.Connection | None:
    """The group's connection; None when its host is not allowed for its workspace."""
    ws, provider, host = group
    fixed = {"github": "github.com", linear_ids.PROVIDER: linear_ids.HOST}
    allowed = (host == fixed[provider] if provider in fixed
               else (provider == "jira" and jira_keys.is_cloud(host))
               or host in hosts.link_hosts(session=session, workspace_id=ws, settings=settings))
    if not allowed:
        return None
    return connections.for_fetch(session=session, settings=settings, workspace_id=ws,
                                 provider=provider, host=host)


def _gitlab_state(raw: Any) -> str | None:
    return {"opened": "open", "locked": "open", "closed": "closed",
            "merged": "merged"}.get(raw) if isinstance(raw, str) else None


def url_root(api_url: str) -> str:
    """The relative URL root of a self-managed GitLab (``gitlab`` for
    ``https://host/gitlab/api/v4``); empty when it is served at the top of its host."""
    path = urlsplit(api_url).path.strip("/")
    return path[:-len("api/v4")].strip("/") if path.endswith("api/v4") else ""


def _api_project(project: str, root: str) -> str:
    """A link's project path (which holds the URL root) as the API names the project."""
    prefix = f"{root.lower()}/"
    return project[len(prefix):] if root and project.lower().startswith(prefix) else project


def _fetch_gitlab(client: ForgeClient, host: str, project: str, kind: str,
                  numbers: list[int], root: str = "") -> tuple[list[ItemState], list[int]]:
    path = "merge_requests" if kind == "merge_request" else "issues"
    found: list[ItemState] = []
    for start in range(0, len(numbers), BATCH):
        chunk = numbers[start:start + BATCH]
        params = [("per_page", BATCH), *[("iids[]", n) for n in chunk]]
        response = client.get(
            f"projects/{quote(_api_project(project, root), safe='')}/{path}", params)
        body = response.json() if response.ok else []
        for item in body if isinstance(body, list) else []:
            state = _gitlab_state(item.get("state")) if isinstance(item, dict) else None
            iid = item.get("iid") if isinstance(item, dict) else None
            if state is None or not isinstance(iid, int) or iid not in chunk:
                continue
            found.append(ItemState("gitlab", host, project, kind, iid, state,
                                   webhook_events.parse_time(item.get("updated_at")),
                                   item.get("title") if isinstance(item.get("title"), str)
                                   else None))
    seen = {s.number for s in found}
    return found, [n for n in numbers if n not in seen]


def _fetch_github(client: ForgeClient, host: str, project: str,
                  number: int) -> ItemState | None:
    response = client.get(f"repos/{project}/issues/{number}")
    if response.status_code == 410:  # GitHub's answer for a deleted issue
        return ItemState("github", host, project, "issue", number, DELETED)
    if not response.ok:
        return None
    body = response.json()
    if not isinstance(body, dict) or body.get("state") not in ("open", "closed"):
        raise ForgeError(f"unexpected answer for {project}#{number}")
    pull = body.get("pull_request")
    kind = "pull_request" if isinstance(pull, dict) else "issue"
    merged = kind == "pull_request" and isinstance(pull, dict) and bool(pull.get("merged_at"))
    return ItemState("github", host, project, kind, number,
                     "merged" if merged else str(body["state"]),
                     webhook_events.parse_time(body.get("updated_at")),
                     body.get("title") if isinstance(body.get("title"), str) else None)


def _apply(factory: sessionmaker[Session], item: ItemState, now: datetime,
           workspace_id: int, report: SyncReport) -> None:
    with unit_of_work(factory) as session:
        result = link_state.apply_state(session=session, item=item, now=now, actor_label="sync",
                                   reason="found by reconciliation", workspace_id=workspace_id)
    report.changed += result.changed
    report.checkins += result.checkins


def run(
    *, session_factory: sessionmaker[Session], settings: Settings, now: datetime,
    workspace_id: int | None = None, link_ids: Iterable[int] | None = None,
    client_factory: ClientFactory | None = None, prune: bool = True, searches: bool = False,
) -> SyncReport:
    """Check every linked item (or those of one workspace, or some links) and apply changes;
    with ``searches``, run the saved searches first."""
    make = client_factory or default_client_factory(settings)
    found = query_sync.refresh(session_factory=session_factory, settings=settings, now=now,
                               client_factory=make, workspace_id=workspace_id) \
        if searches else None
    with unit_of_work(session_factory) as session:
        groups = {group: (items, _connection(session, settings, group))
                  for group, items in _refs(session, workspace_id, link_ids).items()}
    report = SyncReport(searches=found)
    if found is not None:
        report.errors += found.errors
    for (ws, provider, host), (items, conn) in groups.items():
        if conn is None:
            report.errors.append(f"{provider} {host}: not an allowed tracker host for this "
                                 "workspace; not fetched")
            continue
        if provider == "jira" and not conn.token:
            # Jira answers 404 to a request it cannot authenticate: that is not "deleted".
            report.errors.append(f"jira {host}: no connection with an API token "
                                 "(okr tracker add jira); not fetched")
            continue
        client = make(conn)
        try:
            _sync_group(client, provider, host, items, session_factory, now, ws, report,
                        url_root(conn.api_url), conn.canceled_done)
        except ForgeError as exc:
            # One tracker down or out of budget must not stop the others.
            report.errors.append(f"{provider} {host}: {exc}")
            log.warning("sync.host_failed", extra={"provider": provider, "host": host,
                                                    "workspace_id": ws, "error": str(exc)})
        report.requests += client.requests
        report.waited_seconds += client.waited
    if prune:
        with unit_of_work(session_factory) as session:
            webhook_events.prune(session=session, now=now)
    log.info("sync.done", extra={"checked": report.checked, "changed": report.changed,
                                 "errors": len(report.errors)})
    return report


def run_new(*, session_factory: sessionmaker[Session], settings: Settings, now: datetime,
            workspace_id: int, client_factory: ClientFactory | None = None) -> SyncReport | None:
    """Read the state of the workspace's links not read yet (``unknown``: e.g. just imported)
    on hosts it has a connection with a token for; None when there is nothing to read."""
    with unit_of_work(session_factory) as session:
        rows = session.execute(select(IssueLink.id, IssueLink.provider, IssueLink.host).where(
            IssueLink.workspace_id == workspace_id, IssueLink.state == "unknown")).all()
        connected: dict[tuple[str, str], bool] = {}
        for _id, provider, host in rows:
            if (provider, host) not in connected:
                conn = _connection(session, settings, (workspace_id, provider, host))
                connected[(provider, host)] = conn is not None and bool(conn.token)
    ids = [link_id for link_id, provider, host in rows if connected[(provider, host)]]
    if not ids:
        return None
    return run(session_factory=session_factory, settings=settings, now=now,
               workspace_id=workspace_id, link_ids=ids, client_factory=client_factory,
               prune=False)


def _sync_group(client: ForgeClient, provider: str, host: str, items: list[Ref],
                factory: sessionmaker[Session], now: datetime, workspace_id: int,
                report: SyncReport, root: str = "", canceled_done: bool = False) -> None:
    if provider == "gitlab":
        by_project: dict[tuple[str, str], list[int]] = defaultdict(list)
        for _p, _h, project, kind, number in items:
            by_project[(project, kind)].append(number)
        for (project, kind), numbers in by_project.items():
            found, missing = _fetch_gitlab(client, host, project, kind, numbers, root)
            for item in found:
                report.checked += 1
                _apply(factory, item, now, workspace_id, report)
            report.missing += [links.short_ref("gitlab", project, kind, n) for n in missing]
        return
    fetch = (partial(linear.fetch_issue, canceled_done=canceled_done)
             if provider == linear_ids.PROVIDER
             else jira.fetch_issue if provider == "jira" else _fetch_github)
    for _p, _h, project, _kind, number in items:
        fetched = fetch(client, host, project, number)
        if fetched is None:
            report.missing.append(links.short_ref(provider, project, "issue", number))
            continue
        report.checked += 1
        _apply(factory, fetched, now, workspace_id, report)


DAILY_MARKER = "okr-daily-sync"


def run_daily(*, session_factory: sessionmaker[Session], settings: Settings, now: datetime,
              client_factory: ClientFactory | None = None) -> SyncReport | None:
    """The day's reconciliation, once per UTC day however many processes ask.

    The first caller of the day records a marker (the webhook delivery table's unique key
    makes that exactly-once) and runs; everyone else gets None.
    """
    with unit_of_work(session_factory) as session:
        first = webhook_events.claim(session=session, provider=DAILY_MARKER,
                                     delivery_id=now.date().isoformat(), now=now)
    if not first:
        return None
    return run(session_factory=session_factory, settings=settings, now=now,
               client_factory=client_factory, searches=True)


def daily_job(session_factory: sessionmaker[Session], settings: Settings,
              clock: Callable[[], datetime]) -> Callable[[], None]:
    """A scheduler job (call it hourly): runs :func:`run_daily` and never raises."""

    def job() -> None:
        try:
            report = run_daily(session_factory=session_factory, settings=settings, now=clock())
        except Exception:
            log.exception("sync.daily_failed")
            return
        if report is not None:
            log.info("sync.daily_done", extra={"summary": report.summary(),
                                               "errors": len(report.errors)})

    return job
