"""Reading Linear issues over its GraphQL API: a linked issue's state, a project's issues.

Every call is ``POST <api>/graphql`` with the connection's API key as the ``Authorization``
header (a personal API key goes there as is, without ``Bearer``). An issue is asked for by its
identifier (``issue(id: "ENG-123")``): Linear resolves it within the key's organisation, so
the answer's URL is checked to be in the link's organisation, and an issue of another one is
reported missing, never applied. Linear answers an identifier it does not know with a "not
found" error: the issue was deleted (or its team is out of the key's reach), and its links
leave their KR's denominator as a deleted GitHub issue's do.

Rate limits: Linear refuses with HTTP 429 or 400 and an error whose ``extensions.code`` is
``RATELIMITED``; :class:`~app.services.links.http.ForgeClient` waits (``Retry-After``, else
the reset header) and retries either.

State types: ``completed`` is done; ``canceled`` is done only for a connection that says so
(``--canceled-counts-as-done``), otherwise it counts as work not done; ``triage``,
``backlog``, ``unstarted`` and ``started`` are open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from app.services.links import linear_ids
from app.services.links.connections import Connection
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.refs import DELETED, ItemState
from app.services.links.webhooks import parse_time

PAGE = 100
OPEN_TYPES = frozenset({"triage", "backlog", "unstarted", "started"})
ISSUE_FIELDS = "identifier title updatedAt state { type } url"
ISSUE_QUERY = f"query Issue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"
PROJECT_QUERY = (
    "query ProjectIssues($name: String!, $first: Int!, $after: String) { "
    "issues(first: $first, after: $after, filter: { project: { name: { eq: $name } } }) { "
    f"nodes {{ {ISSUE_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}")


class NotInOrganisation(ForgeError):
    """The key answered for an issue of another Linear organisation than the link's."""


def client(conn: Connection, **options: Any) -> ForgeClient:
    """A client for one Linear connection (``options`` go to :class:`ForgeClient`)."""
    headers = {"User-Agent": "okr-checkin", "Content-Type": "application/json"}
    if conn.token:
        headers["Authorization"] = conn.token
    return ForgeClient(provider=linear_ids.PROVIDER, base_url=conn.api_url, headers=headers,
                       **options)


def state_of(kind: Any, *, canceled_done: bool) -> str | None:
    """Our state for a Linear workflow state type; None for one we do not know."""
    if kind == "completed":
        return "closed"
    if kind == "canceled":
        return "closed" if canceled_done else "open"
    return "open" if kind in OPEN_TYPES else None


def _errors(body: Any) -> list[Mapping[str, Any]]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _code(error: Mapping[str, Any]) -> str:
    ext = error.get("extensions")
    return str(ext.get("code", "")) if isinstance(ext, dict) else ""


def rate_limited(response: requests.Response) -> bool:
    """Linear's refusal in the body: an error with ``extensions.code`` ``RATELIMITED``."""
    if response.status_code not in (200, 400):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return any(_code(e) == "RATELIMITED" for e in _errors(body))


def _not_found(error: Mapping[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return _code(error) in ("NOT_FOUND", "ENTITY_NOT_FOUND") or "not found" in message


def _query(client: ForgeClient, query: str, variables: dict[str, Any]) -> Any:
    if "Authorization" not in client.headers:
        # Linear answers nothing without a key: say so once instead of asking per issue.
        raise ForgeError("this workspace has no Linear connection with an API key "
                         "(okr tracker add linear)")
    response = client.post("graphql", {"query": query, "variables": variables},
                           refused=rate_limited, answered=(400,))
    try:
        return response.json()
    except ValueError as exc:
        raise ForgeError("linear answered something that is not JSON") from exc


def _fail(errors: list[Mapping[str, Any]]) -> ForgeError:
    first = errors[0]
    return ForgeError(f"linear: {str(first.get('message', 'error'))[:200]} "
                      f"({_code(first) or 'no code'})")


def url_org(value: Any) -> str | None:
    """The organisation slug of a Linear issue URL; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        split = urlsplit(value)
    except ValueError:
        return None
    parts = [p for p in split.path.split("/") if p]
    if (split.hostname or "").lower() != linear_ids.HOST or len(parts) < 3:
        return None
    try:
        return linear_ids.parse_path(parts)[0]
    except linear_ids.BadIdentifier:
        return None


def _item(node: Any, project: str, number: int, *, canceled_done: bool) -> ItemState:
    if not isinstance(node, dict):
        raise ForgeError(f"unexpected answer for {linear_ids.identifier(project, number)}")
    state = node.get("state")
    mapped = state_of(state.get("type") if isinstance(state, dict) else None,
                      canceled_done=canceled_done)
    if mapped is None:
        raise ForgeError(f"unexpected state for {linear_ids.identifier(project, number)}")
    title = node.get("title")
    return ItemState(linear_ids.PROVIDER, linear_ids.HOST, project, "issue", number, mapped,
                     parse_time(node.get("updatedAt")),
                     title if isinstance(title, str) else None)


def fetch_issue(client: ForgeClient, host: str, project: str, number: int, *,
                canceled_done: bool = False) -> ItemState | None:
    """The state of the linked issue ``number`` of ``project`` (``acme/ENG``); a deleted
    state when Linear does not know it; None when the key's organisation is another one.

    The state is the link's: an issue moved to another team still answers to its old
    identifier, and its links keep that identifier."""
    org, _team = linear_ids.split_project(project)
    body = _query(client, ISSUE_QUERY, {"id": linear_ids.identifier(project, number)})
    errors = _errors(body)
    data = body.get("data") if isinstance(body, dict) else None
    node = data.get("issue") if isinstance(data, dict) else None
    if node is None and (not errors or all(_not_found(e) for e in errors)):
        return ItemState(linear_ids.PROVIDER, host, project, "issue", number, DELETED)
    if errors and node is None:
        raise _fail(errors)
    if url_org(node.get("url") if isinstance(node, dict) else None) != org:
        return None
    return _item(node, project, number, canceled_done=canceled_done)


def project_issues(client: ForgeClient, project: str, *, org: str, limit: int = 1000,
                   canceled_done: bool = False) -> list[ItemState]:
    """The issues of the Linear project named ``project`` (at most ``limit``), paging 100 at
    a time; issues answered for another organisation than ``org`` are left out."""
    org = linear_ids.parse_org(org)
    found: list[ItemState] = []
    after: str | None = None
    while len(found) < limit:
        body = _query(client, PROJECT_QUERY, {"name": project, "first": PAGE, "after": after})
        if _errors(body):
            raise _fail(_errors(body))
        data = body.get("data") if isinstance(body, dict) else None
        issues = data.get("issues") if isinstance(data, dict) else None
        nodes = issues.get("nodes") if isinstance(issues, dict) else None
        page = issues.get("pageInfo") if isinstance(issues, dict) else None
        if not isinstance(nodes, list) or not isinstance(page, dict):
            raise ForgeError(f"unexpected answer for the issues of {project[:100]!r}")
        for node in nodes:
            if len(found) >= limit:
                break
            ident = node.get("identifier") if isinstance(node, dict) else None
            try:
                team, number = linear_ids.parse_identifier(str(ident))
            except linear_ids.BadIdentifier as exc:
                raise ForgeError(f"unexpected identifier {str(ident)[:40]!r}") from exc
            if url_org(node.get("url")) != org:
                continue
            found.append(_item(node, linear_ids.project(org, team), number,
                               canceled_done=canceled_done))
        cursor = page.get("endCursor")
        if page.get("hasNextPage") is not True or not isinstance(cursor, str) or not nodes:
            break
        after = cursor
    return found
