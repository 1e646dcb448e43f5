"""A local fake Jira Cloud site: its REST API for reconciliation and search, its webhooks.

Built on :class:`tests.fakeforge.FakeForge` (the HTTP server, ``inject_429`` with
``Retry-After``, ``hits``). Issues live in memory by key (``PAY-12``); ``transition`` moves
one to another status like a person would on the board and, when a hook is registered,
delivers the ``jira:issue_updated`` webhook Jira sends (a ``changelog`` item for the status,
``X-Hub-Signature`` over the body, ``X-Atlassian-Webhook-Identifier``); ``drop_hooks``
loses them on the way. ``create`` and ``delete`` send ``jira:issue_created`` and
``jira:issue_deleted``. A deleted or unknown issue answers 404, as Jira does.

``email`` and ``token`` set: requests must carry Basic ``email:token`` (401 otherwise).
The search (``/rest/api/3/search/jql``) understands ``project = X``, ``statusCategory = Y``
and ``statusCategory != Y`` joined by ``AND`` (400 for anything else), and pages with an
opaque ``nextPageToken``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from tests.fakeforge import FakeForge

# status name -> status category key (Jira's three categories).
CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate",
              "Done": "done", "Won't Do": "done"}
_CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
_CLAUSE = re.compile(r"^\s*(project|statusCategory)\s*(=|!=)\s*\"?([\w ]+?)\"?\s*$", re.I)


def jira_time(at: datetime) -> str:
    """Jira's timestamp format: ``2026-03-02T09:00:00.000+0000``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


@dataclass
class Issue:
    status: str = "To Do"
    summary: str = "issue"
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def category(self) -> str:
        return CATEGORIES[self.status]


class FakeJira(FakeForge):
    provider = "jira"

    def __init__(self, host: str = "acme.atlassian.net") -> None:
        super().__init__()
        self.host = host
        self.issues: dict[str, Issue] = {}
        self.email: str | None = None
        self.page_tokens: list[str | None] = []  # the nextPageToken of each search request

    # --- what FakeForge asks of a provider -------------------------------------------------

    def _limit_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.budget)}

    def _auth_ok(self, headers: Any) -> tuple[bool, str | None]:
        given = headers.get("Authorization")
        return (self.token is None or given == self._credential(self.token)), given

    def _credential(self, token: str) -> str:
        pair = base64.b64encode(f"{self.email}:{token}".encode()).decode()
        return f"Basic {pair}"

    def _project_of(self, path: str) -> str | None:
        return None

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] != ["rest", "api"] or len(parts) < 4 or parts[2] not in ("2", "3"):
            return 404, {"errorMessages": ["not found"]}
        if parts[3:] == ["search", "jql"] and parts[2] == "3":
            return self._search(query)
        if len(parts) == 5 and parts[3] == "issue":
            key = parts[4].upper()
            if key not in self.issues:
                return 404, {"errorMessages": ["Issue does not exist or you do not have "
                                               "permission to see it."], "errors": {}}
            return 200, self.issue_json(key, query.get("fields", [""])[0])
        return 404, {"errorMessages": ["not found"]}

    # --- representations --------------------------------------------------------------------

    def issue_json(self, key: str, fields: str = "") -> dict[str, Any]:
        issue = self.issues[key]
        category = issue.category
        all_fields: dict[str, Any] = {
            "summary": issue.summary, "updated": jira_time(issue.updated_at),
            "resolution": {"name": "Done"} if category == "done" else None,
            "status": {"name": issue.status, "id": "1",
                       "statusCategory": {"id": 3, "key": category,
                                          "name": _CATEGORY_NAMES[category]}},
            "issuetype": {"name": "Task"}, "labels": [],
        }
        wanted = [f for f in fields.split(",") if f]
        shown = {k: v for k, v in all_fields.items() if not wanted or k in wanted}
        return {"id": str(10000 + len(key)), "key": key,
                "self": f"https://{self.host}/rest/api/3/issue/{key}", "fields": shown}

    def _matches(self, key: str, clauses: list[tuple[str, str, str]]) -> bool:
        for name, op, value in clauses:
            have = key.split("-")[0] if name == "project" else _CATEGORY_NAMES[
                self.issues[key].category]
            same = have.lower() == value.lower()
            if same != (op == "="):
                return False
        return True

    def _search(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        jql = query.get("jql", [""])[0].split(" ORDER BY ")[0]
        clauses = []
        for text in re.split(r"\s+AND\s+", jql, flags=re.I) if jql.strip() else []:
            match = _CLAUSE.match(text)
            if match is None:
                return 400, {"errorMessages": [f"Error in the JQL Query: {text!r}"]}
            clauses.append((match[1].lower(), match[2], match[3]))
        token = query.get("nextPageToken", [None])[0]
        self.page_tokens.append(token)
        start = int(base64.b64decode(token).decode()) if token else 0
        size = min(int(query.get("maxResults", ["50"])[0]), 100)
        keys = sorted((k for k in self.issues if self._matches(k, clauses)),
                      key=lambda k: (k.split("-")[0], int(k.split("-")[1])))
        page = keys[start:start + size]
        body: dict[str, Any] = {"issues": [self.issue_json(k, query.get("fields", [""])[0])
                                           for k in page]}
        if start + size < len(keys):
            body["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        else:
            body["isLast"] = True
        return 200, body

    # --- changes and webhooks -----------------------------------------------------------------

    def add_issue(self, key: str, status: str = "To Do", summary: str = "issue") -> None:
        with self.lock:
            self.issues[key] = Issue(status=status, summary=summary)

    def hook(self, project: str, kind: str, number: int,
             delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The signed ``jira:issue_updated`` for an issue's current status."""
        return self.event("jira:issue_updated", f"{project}-{number}", delivery)

    def event(self, event: str, key: str, delivery: str | None = None,
              changelog: list[dict[str, Any]] | None = None) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issue_json(key)
        body: dict[str, Any] = {
            "timestamp": 1772442000000, "webhookEvent": event,
            "issue_event_type_name": {"jira:issue_created": "issue_created",
                                      "jira:issue_deleted": "issue_deleted"}.get(
                event, "issue_generic"),
            "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Ada"},
            "issue": issue,
        }
        if event == "jira:issue_updated":
            status = issue["fields"]["status"]["name"]
            body["changelog"] = {"id": "10400", "items": changelog if changelog is not None else [
                {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1",
                 "fromString": "To Do", "to": "2", "toString": status}]}
        return self.sign(json.dumps(body).encode(), delivery)

    def sign(self, raw: bytes, delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
        """Headers as Jira sends them with a webhook secret."""
        signature = hmac.new(self.hook_secret.encode(), raw, hashlib.sha256).hexdigest()
        return raw, {"Content-Type": "application/json", "X-Hub-Signature": f"sha256={signature}",
                     "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
                     "User-Agent": "Atlassian Webhook HTTP Client"}

    def _deliver(self, raw: bytes, headers: dict[str, str]) -> requests.Response | None:
        if self.hook_url is None or self.drop_hooks:
            return None
        response = requests.post(self.hook_url, data=raw, headers=headers, timeout=10)
        self.delivered.append((headers["X-Atlassian-Webhook-Identifier"], response.status_code))
        return response

    def transition(self, key: str, status: str) -> requests.Response | None:
        """Move an issue to ``status`` (see CATEGORIES) and send the webhook."""
        with self.lock:
            issue = self.issues[key]
            before, issue.status = issue.status, status
            issue.updated_at = datetime.now(UTC)
        return self._deliver(*self.event("jira:issue_updated", key, changelog=[
            {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1",
             "fromString": before, "to": "2", "toString": status}]))

    def create(self, key: str, status: str = "To Do",
               summary: str = "issue") -> requests.Response | None:
        self.add_issue(key, status, summary)
        return self._deliver(*self.event("jira:issue_created", key))

    def delete(self, key: str) -> requests.Response | None:
        raw, headers = self.event("jira:issue_deleted", key)
        with self.lock:
            del self.issues[key]
        return self._deliver(raw, headers)
