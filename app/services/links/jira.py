"""Jira's REST API: the state of linked issues, and issues found by a JQL search.

Reconciliation reads one issue at a time (``GET /rest/api/3/issue/{key}``, the fields it
needs only); an issue Jira does not find (404: deleted, or no longer visible to the
connection's account) leaves its KR's denominator. Jira Server / Data Center hosts are read
through ``/rest/api/2`` (the same representation; v3 is Jira Cloud's).

Requests authenticate with the connection: Basic ``email:token`` when it has an account (a
Jira Cloud API token), else a bearer token (a Data Center personal access token). Rate
limits (429 with ``Retry-After``) are waited out by :class:`~app.services.links.http.ForgeClient`.
"""

from __future__ import annotations

import base64

from app.services.links import jira_events, jira_keys
from app.services.links.connections import Connection
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.refs import DELETED, ItemState
from app.services.links.webhooks import BadPayload

FIELDS = "status,resolution,summary,updated"
PAGE = 100  # the search's largest page


def api_path(host: str) -> str:
    return "rest/api/3" if jira_keys.is_cloud(host) else "rest/api/2"


def headers(conn: Connection) -> dict[str, str]:
    """The credential headers for a connection (none without a token)."""
    out = {"Accept": "application/json"}
    if conn.token and conn.account:
        pair = base64.b64encode(f"{conn.account}:{conn.token}".encode()).decode()
        out["Authorization"] = f"Basic {pair}"
    elif conn.token:
        out["Authorization"] = f"Bearer {conn.token}"
    return out


def fetch_issue(client: ForgeClient, host: str, project: str,
                number: int) -> ItemState | None:
    """One issue's state; ``deleted`` when Jira does not find it."""
    key = jira_keys.key(project, number)
    response = client.get(f"{api_path(host)}/issue/{key}", params={"fields": FIELDS})
    if response.status_code in (404, 410):
        return ItemState("jira", host, project.upper(), "issue", number, DELETED)
    try:
        found = jira_events.issue_state(response.json(), host=host, where="")
    except (ValueError, BadPayload) as exc:
        raise ForgeError(f"unexpected answer for {key}: {exc}") from exc
    # An issue moved to another project answers under its new key: the link keeps its own.
    return ItemState("jira", host, project.upper(), "issue", number, found.state,
                     found.updated_at, found.title)


def search_jql(client: ForgeClient, jql: str, *, host: str,
               limit: int = 1000) -> list[ItemState]:
    """The issues a JQL query finds (at most ``limit``), through Jira Cloud's
    ``/rest/api/3/search/jql``, page by page (``nextPageToken``)."""
    found: list[ItemState] = []
    token: str | None = None
    seen: set[str] = set()
    while len(found) < limit:
        params: dict[str, str | int] = {"jql": jql, "fields": FIELDS,
                                        "maxResults": min(PAGE, limit - len(found))}
        if token:
            params["nextPageToken"] = token
        response = client.get("rest/api/3/search/jql", params=params)
        if not response.ok:
            raise ForgeError(f"jira answered HTTP {response.status_code} for the search")
        try:
            body = response.json()
            issues = body.get("issues") if isinstance(body, dict) else None
            if not isinstance(issues, list):
                raise BadPayload("issues is missing or not a list")
            found += [jira_events.issue_state(i, host=host, where="issues[].") for i in issues]
        except (ValueError, BadPayload) as exc:
            raise ForgeError(f"unexpected answer for the search: {exc}") from exc
        token = body.get("nextPageToken")
        if not isinstance(token, str) or not token or body.get("isLast") is True or (
                token in seen) or not issues:
            break
        seen.add(token)
    return found[:limit]
