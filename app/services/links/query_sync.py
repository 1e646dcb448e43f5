"""Running saved searches over the trackers' APIs: the daily sync, ``okr sync-issues`` and a
search just set re-run each one and reconcile the KR's items with what it found.

Searchers are looked up by provider in :data:`SEARCHERS`; each takes a client for the
search's connection (:func:`app.services.links.sync.default_client_factory`), the search and
a limit, and returns the items it found as :class:`~app.services.links.refs.ItemState`s:

* GitLab: ``GET /projects/:id/issues?labels=a,b&milestone=Q1&state=all`` page by page;
* GitHub: the milestone's number first (``GET /repos/:o/:r/milestones?state=all``, by title),
  then ``GET /repos/:o/:r/issues?labels=a,b&milestone=N&state=all`` page by page; the
  pull requests that endpoint also returns are skipped (a search counts issues; link a pull
  request by hand to count it).

A provider without a searcher (Jira and Linear until theirs are registered) is reported
("no searcher for jira yet") and its searches keep their items. Network calls happen outside
any transaction; each search is then reconciled in its own short one
(:func:`app.services.links.queries.reconcile`) and its items' states applied through
:func:`app.services.links.state.apply_state`, the path webhooks take. A search that fails
(its tracker down, a milestone that does not exist) keeps its items and records the error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import unit_of_work
from app.services.links import connections, hosts, jira, jira_keys, linear, queries
from app.services.links import state as link_state
from app.services.links.http import ForgeError
from app.services.links.query_specs import QuerySpec, stored
from app.services.links.refs import ItemState
from app.services.links.webhooks import parse_time

log = logging.getLogger(__name__)

LIMIT = 1000  # items per search; a larger result adds what it found and removes nothing
PAGE = 100


class Client(Protocol):
    """What a searcher needs of a tracker client (:class:`~.http.ForgeClient` is one)."""

    requests: int
    waited: float

    def get(self, path: str, params: Any = None) -> Any: ...


# provider -> searcher(client, spec, limit[, connection]) -> items found.
Searcher = Callable[..., list[ItemState]]
SEARCHERS: dict[str, Searcher] = {}
ClientFactory = Callable[[Any], Client]


def _gitlab_state(raw: Any) -> str | None:
    return {"opened": "open", "locked": "open", "closed": "closed"}.get(raw) \
        if isinstance(raw, str) else None


def _page(client: Client, path: str, params: dict[str, Any], what: str) -> list[Any]:
    response = client.get(path, params)
    if response.status_code in (404, 410):
        raise ForgeError(f"{what} was not found (or this connection cannot see it)")
    body = response.json()
    if not isinstance(body, list):
        raise ForgeError(f"unexpected answer for {what}")
    return body


def gitlab_search(client: Client, spec: QuerySpec, limit: int,
                  conn: Any = None) -> list[ItemState]:
    """A GitLab project's issues with all the labels and the milestone (pages of 100)."""
    params: dict[str, Any] = {"state": "all", "per_page": PAGE}
    if spec.labels:
        params["labels"] = ",".join(spec.labels)
    if spec.milestone is not None:
        params["milestone"] = spec.milestone
    path = f"projects/{quote(spec.project, safe='')}/issues"
    out: list[ItemState] = []
    for page in range(1, limit // PAGE + 2):
        body = _page(client, path, {**params, "page": page}, spec.project)
        for raw in body:
            state = _gitlab_state(raw.get("state")) if isinstance(raw, dict) else None
            iid = raw.get("iid") if isinstance(raw, dict) else None
            if state is None or not isinstance(iid, int) or isinstance(iid, bool):
                continue
            out.append(ItemState(
                "gitlab", spec.host, spec.project, "issue", iid, state,
                parse_time(raw.get("updated_at")), _title(raw),
                labels=tuple(x for x in raw.get("labels") or () if isinstance(x, str)),
                milestone=_milestone(raw.get("milestone"))))
        if len(body) < PAGE or len(out) >= limit:
            break
    return out[:limit]


def _title(raw: dict[str, Any]) -> str | None:
    title = raw.get("title")
    return title if isinstance(title, str) else None


def _milestone(raw: Any) -> str:
    title = raw.get("title") if isinstance(raw, dict) else None
    return title if isinstance(title, str) else ""


def github_milestone(client: Client, repo: str, title: str) -> int:
    """The number of the repository's milestone with this title (any state)."""
    for page in range(1, 11):
        body = _page(client, f"repos/{repo}/milestones",
                     {"state": "all", "per_page": PAGE, "page": page}, repo)
        for raw in body:
            if isinstance(raw, dict) and isinstance(raw.get("title"), str) \
                    and raw["title"].casefold() == title.casefold() \
                    and isinstance(raw.get("number"), int):
                return int(raw["number"])
        if len(body) < PAGE:
            break
    raise ForgeError(f"{repo} has no milestone {title[:100]!r}")


def github_search(client: Client, spec: QuerySpec, limit: int,
                  conn: Any = None) -> list[ItemState]:
    """A GitHub repository's issues with all the labels and the milestone; pull requests
    (which the issues endpoint returns too) are skipped."""
    params: dict[str, Any] = {"state": "all", "per_page": PAGE}
    if spec.labels:
        params["labels"] = ",".join(spec.labels)
    if spec.milestone is not None:
        params["milestone"] = github_milestone(client, spec.project, spec.milestone)
    out: list[ItemState] = []
    for page in range(1, limit // PAGE + 2):
        body = _page(client, f"repos/{spec.project}/issues", {**params, "page": page},
                     spec.project)
        for raw in body:
            if not isinstance(raw, dict) or "pull_request" in raw:
                continue
            number, state = raw.get("number"), raw.get("state")
            if not isinstance(number, int) or state not in ("open", "closed"):
                continue
            out.append(ItemState(
                "github", "github.com", spec.project, "issue", number, str(state),
                parse_time(raw.get("updated_at")), _title(raw),
                labels=tuple(lb["name"] for lb in raw.get("labels") or ()
                             if isinstance(lb, dict) and isinstance(lb.get("name"), str)),
                milestone=_milestone(raw.get("milestone"))))
        if len(body) < PAGE or len(out) >= limit:
            break
    return out[:limit]


def via_jql(search_jql: Callable[..., list[ItemState]]) -> Searcher:
    """A Jira searcher from ``search_jql(client, jql, *, host, limit)``."""

    def search(client: Client, spec: QuerySpec, limit: int,
               conn: Any = None) -> list[ItemState]:
        return search_jql(client, spec.jql, host=spec.host, limit=limit)

    return search


def via_project(project_issues: Callable[..., list[ItemState]]) -> Searcher:
    """A Linear searcher from ``project_issues(client, project, *, org, limit,
    canceled_done)``: whether a canceled issue counts as done is the connection's setting."""

    def search(client: Client, spec: QuerySpec, limit: int,
               conn: Any = None) -> list[ItemState]:
        return project_issues(client, spec.project, org=spec.org, limit=limit,
                              canceled_done=bool(getattr(conn, "canceled_done", False)))

    return search


SEARCHERS.update(gitlab=gitlab_search, github=github_search, jira=via_jql(jira.search_jql),
                 linear=via_project(linear.project_issues))


@dataclass
class QueryReport:
    searches: int = 0
    found: int = 0
    added: int = 0
    left: int = 0
    checkins: int = 0
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def summary(self) -> str:
        return (f"ran {self.searches} saved search(es): {self.found} item(s) found, "
                f"{self.added} added, {self.left} left, {self.checkins} key result(s) moved")


@dataclass(frozen=True)
class _Job:
    query_id: int
    workspace_id: int
    kr_id: int
    spec: QuerySpec
    connection: Any | None  # None: the host is not allowed for the workspace


def _jobs(session: Session, settings: Settings, workspace_id: int | None,
          kr_ids: list[int] | None, new_only: bool) -> list[_Job]:
    out: list[_Job] = []
    for row in queries.pending(session=session, workspace_id=workspace_id):
        if (kr_ids is not None and row.kr_id not in kr_ids) or (
                new_only and row.refreshed_at is not None):
            continue
        spec = stored(row.spec)
        allowed = spec.provider not in hosts.LINK_HOST_PROVIDERS or (
            spec.provider == "jira" and jira_keys.is_cloud(spec.host)) or spec.host in \
            hosts.link_hosts(session=session, workspace_id=row.workspace_id, settings=settings)
        conn = connections.for_fetch(session=session, settings=settings,
                                     workspace_id=row.workspace_id, provider=spec.provider,
                                     host=spec.host) if allowed else None
        out.append(_Job(row.id, row.workspace_id, row.kr_id, spec, conn))
    return out


def refresh(*, session_factory: sessionmaker[Session], settings: Settings, now: datetime,
            client_factory: ClientFactory, workspace_id: int | None = None,
            kr_ids: list[int] | None = None, limit: int = LIMIT,
            new_only: bool = False) -> QueryReport:
    """Run every saved search (of one workspace, of some KRs, or ``new_only`` those never
    run yet) and reconcile its items."""
    with unit_of_work(session_factory) as session:
        jobs = _jobs(session, settings, workspace_id, kr_ids, new_only)
    report = QueryReport()
    for job in jobs:
        report.searches += 1
        error = _run(job, session_factory, now, client_factory, limit, report)
        if error is not None:
            report.errors.append(f"{job.spec.provider} search of KR {job.kr_id}: {error}")
            with unit_of_work(session_factory) as session:
                queries.record_error(session=session, workspace_id=job.workspace_id,
                                     query_id=job.query_id, error=error, now=now)
    log.info("query_sync.done", extra={"searches": report.searches, "added": report.added,
                                       "left": report.left, "errors": len(report.errors)})
    return report


def _run(job: _Job, factory: sessionmaker[Session], now: datetime, make: ClientFactory,
         limit: int, report: QueryReport) -> str | None:
    """One search: fetch, reconcile, apply states; the error text, or None."""
    searcher = SEARCHERS.get(job.spec.provider)
    if searcher is None:
        return f"no searcher for {job.spec.provider} yet"
    if job.connection is None:
        return f"{job.spec.host} is not an allowed tracker host for this workspace"
    if job.spec.provider in ("jira", "linear") and not job.connection.token:
        # Jira answers 404 to what it cannot authenticate, Linear refuses: not "no items".
        return (f"no {job.spec.provider} connection with an API token for {job.spec.host} "
                f"(okr tracker add {job.spec.provider})")
    client = make(job.connection)
    try:
        items = searcher(client, job.spec, limit, job.connection)
    except ForgeError as exc:
        return str(exc)
    finally:
        report.requests += getattr(client, "requests", 0)
    report.found += len(items)
    with unit_of_work(factory) as session:
        moved = queries.reconcile(session=session, workspace_id=job.workspace_id,
                                  query_id=job.query_id, items=items, now=now,
                                  complete=len(items) < limit)
    report.added += len(moved.added)
    report.left += len(moved.left)
    report.checkins += moved.checkins
    for item in items:
        with unit_of_work(factory) as session:
            result = link_state.apply_state(session=session, item=item, now=now,
                                            actor_label="sync", workspace_id=job.workspace_id,
                                            reason="found by the saved search")
        report.checkins += result.checkins
    if len(items) >= limit:
        return f"more than {limit} items: the first {limit} were added, none removed"
    return None
