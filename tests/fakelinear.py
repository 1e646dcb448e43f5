"""A local fake Linear: its GraphQL endpoint for reconciliation and project searches, its
signed webhooks on change.

One HTTP server on a free loopback port answers ``POST /graphql`` for the two queries the
service sends (``issue(id: ...)`` and ``issues(first:, after:, filter: {project: ...})``),
checking the API key in ``Authorization`` like Linear (no ``Bearer`` for a personal key).
Issues live in memory, in one organisation (``org``). ``set_state`` changes an issue like a
person would in Linear and, when a hook is registered, delivers the webhook Linear would send:
the issue as it is now, the changed fields' old values in ``updatedFrom``, ``webhookTimestamp``
from ``clock``, signed with ``hook_secret`` in ``Linear-Signature``, named by
``Linear-Delivery``. ``remove`` deletes one (the API then answers "Entity not found").
``drop_hooks`` loses webhooks on the way; ``redirect_to`` answers every request with a 307
there, ``pad_bytes`` makes every answer that much larger.

Rate limits: every answer carries ``X-RateLimit-Requests-Remaining`` / ``-Reset`` (Unix ms);
``inject_ratelimit`` refuses the next requests with ``Retry-After``, as HTTP 429 or as
Linear's GraphQL error ``RATELIMITED`` in an HTTP 400.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from app.services.links.linear_events import signature

STATES = {"triage": "Triage", "backlog": "Backlog", "unstarted": "Todo",
          "started": "In Progress", "completed": "Done", "canceled": "Canceled"}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Issue:
    identifier: str
    title: str
    state: str  # a Linear state type: triage | backlog | unstarted | started | ...
    project: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Hit:
    at: float
    auth: str | None
    operation: str  # issue | issues | other
    variables: dict[str, Any]
    status: int


class FakeLinear:
    def __init__(self, org: str = "acme") -> None:
        self.org = org
        self.organization_id = str(uuid.uuid4())
        self.issues: dict[str, Issue] = {}
        self.removed: set[str] = set()
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.token: str | None = None  # None: any key (or none) is accepted
        self.budget = 1500
        self._used = 0
        self._refuse_next = 0
        self._retry_after = 1
        self._refuse_style = "429"
        self.hook_url: str | None = None
        self.hook_secret = ""
        self.drop_hooks = False
        self.delivered: list[tuple[str, int]] = []
        self.clock: Callable[[], float] = time.time  # what webhookTimestamp says
        self.redirect_to: str | None = None  # answer every request with a 307 there
        self.pad_bytes = 0  # make every answer that much larger
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeLinear:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def api_hits(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def inject_ratelimit(self, count: int = 1, retry_after: int = 1,
                         style: str = "graphql") -> None:
        """Refuse the next ``count`` requests: ``"429"`` or Linear's ``"graphql"`` error."""
        with self.lock:
            self._refuse_next, self._retry_after, self._refuse_style = count, retry_after, style

    # --- issues --------------------------------------------------------------------------

    def add(self, identifier: str, state: str = "unstarted", title: str = "issue",
            project: str | None = None) -> Issue:
        with self.lock:
            issue = Issue(identifier, title, state, project)
            self.issues[identifier] = issue
            return issue

    def issue_url(self, identifier: str) -> str:
        slug = self.issues[identifier].title.lower().replace(" ", "-")[:40]
        return f"https://linear.app/{self.org}/issue/{identifier}/{slug}"

    def set_state(self, identifier: str, state: str) -> requests.Response | None:
        with self.lock:
            issue = self.issues[identifier]
            before = {"updatedAt": _iso(issue.updated_at), "stateId": _state_id(issue.state)}
            issue.state = state
            issue.updated_at = datetime.now(UTC)
        return self._deliver(identifier, "update", before)

    def remove(self, identifier: str) -> requests.Response | None:
        with self.lock:
            self.removed.add(identifier)
        return self._deliver(identifier, "remove")

    # --- webhooks ------------------------------------------------------------------------

    def payload(self, identifier: str, action: str = "update",
                updated_from: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body Linear sends for an Issue event (see tests/fixtures/payloads/README.md)."""
        with self.lock:
            issue = self.issues[identifier]
            team, number = identifier.rsplit("-", 1)
            url = self.issue_url(identifier)
            data = {
                "id": issue.id, "createdAt": _iso(issue.created_at),
                "updatedAt": _iso(issue.updated_at), "number": int(number),
                "title": issue.title, "priority": 0, "priorityLabel": "No priority",
                "identifier": identifier, "url": url, "stateId": _state_id(issue.state),
                "state": {"id": _state_id(issue.state), "name": STATES[issue.state],
                          "color": "#5e6ad2", "type": issue.state},
                "team": {"id": f"team-{team}", "key": team, "name": team.title()},
                "teamId": f"team-{team}", "labelIds": [], "subscriberIds": [],
            }
            body: dict[str, Any] = {
                "action": action, "type": "Issue", "createdAt": _iso(issue.updated_at),
                "actor": {"id": "user-1", "type": "user", "name": "Ada"},
                "data": data, "url": url, "organizationId": self.organization_id,
                "webhookTimestamp": int(self.clock() * 1000),
                "webhookId": "webhook-1",
            }
        if updated_from is not None:
            body["updatedFrom"] = updated_from
        return body

    def sign(self, body: dict[str, Any] | bytes,
             delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return raw, {"Content-Type": "application/json; charset=utf-8",
                     "Linear-Event": "Issue", "Linear-Delivery": delivery or str(uuid.uuid4()),
                     "Linear-Signature": signature(self.hook_secret, raw)}

    def hook(self, identifier: str, action: str = "update",
             delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
        return self.sign(self.payload(identifier, action), delivery)

    def _deliver(self, identifier: str, action: str,
                 updated_from: dict[str, Any] | None = None) -> requests.Response | None:
        if self.hook_url is None or self.drop_hooks:
            return None
        raw, headers = self.sign(self.payload(identifier, action, updated_from))
        response = requests.post(self.hook_url, data=raw, headers=headers, timeout=10)
        self.delivered.append((headers["Linear-Delivery"], response.status_code))
        return response

    # --- the API -------------------------------------------------------------------------

    def _node(self, issue: Issue) -> dict[str, Any]:
        return {"identifier": issue.identifier, "title": issue.title,
                "updatedAt": _iso(issue.updated_at), "state": {"type": issue.state},
                "url": self.issue_url(issue.identifier)}

    def _issue(self, variables: dict[str, Any]) -> tuple[int, Any]:
        ident = str(variables.get("id", ""))
        issue = next((i for k, i in self.issues.items()
                      if k.upper() == ident.upper() and k not in self.removed), None)
        if issue is None:
            return 200, {"data": None, "errors": [{
                "message": "Entity not found: Issue", "path": ["issue"],
                "extensions": {"code": "INVALID_INPUT", "type": "invalid input",
                               "userPresentableMessage": "Could not find referenced Issue."}}]}
        return 200, {"data": {"issue": self._node(issue)}}

    def _project_issues(self, variables: dict[str, Any]) -> tuple[int, Any]:
        name, first = variables.get("name"), int(variables.get("first") or 50)
        after = variables.get("after")
        matching = [i for k, i in sorted(self.issues.items())
                    if i.project == name and k not in self.removed]
        start = int(after.removeprefix("cursor-")) if isinstance(after, str) else 0
        page = matching[start:start + first]
        end = start + len(page)
        return 200, {"data": {"issues": {
            "nodes": [self._node(i) for i in page],
            "pageInfo": {"hasNextPage": end < len(matching),
                         "endCursor": f"cursor-{end}" if page else None}}}}

    def _answer(self, body: Any, auth: str | None) -> tuple[int, Any, str, dict[str, Any]]:
        query = body.get("query") if isinstance(body, dict) else None
        variables = body.get("variables") if isinstance(body, dict) else None
        variables = variables if isinstance(variables, dict) else {}
        if not isinstance(query, str):
            return 400, {"errors": [{"message": "Must provide query string."}]}, "other", {}
        operation = ("issues" if "issues(" in query else
                     "issue" if "issue(" in query else "other")
        if self.token is not None and auth != self.token:
            return 400, {"errors": [{"message": "Authentication required, not authenticated",
                                     "extensions": {"code": "AUTHENTICATION_ERROR"}}]}, \
                operation, variables
        if operation == "issue":
            return (*self._issue(variables), operation, variables)
        if operation == "issues":
            return (*self._project_issues(variables), operation, variables)
        return 400, {"errors": [{"message": "Unknown query"}]}, operation, variables

    def _admit(self) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            reset = str(int((time.time() + 3600) * 1000))
            headers = {"X-RateLimit-Requests-Limit": str(self.budget),
                       "X-RateLimit-Requests-Reset": reset}
            if self._refuse_next:
                self._refuse_next -= 1
                # The bucket refills by the time Linear says to retry.
                headers.update({"Retry-After": str(self._retry_after),
                                "X-RateLimit-Requests-Remaining": "0",
                                "X-RateLimit-Requests-Reset": str(
                                    int((time.time() + self._retry_after) * 1000))})
                if self._refuse_style == "429":
                    return 429, headers, {"errors": [{"message": "Too many requests"}]}
                return 400, headers, {"errors": [{
                    "message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]}
            self._used += 1
            headers["X-RateLimit-Requests-Remaining"] = str(max(self.budget - self._used, 1))
            return 0, headers, None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                auth = self.headers.get("Authorization")
                if fake.redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", fake.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                refused, headers, answer = fake._admit()
                operation, variables = "other", {}
                if refused:
                    status = refused
                elif self.path.split("?")[0] != "/graphql":
                    status, answer = 404, {"errors": [{"message": "Not found"}]}
                else:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = None
                    with fake.lock:
                        status, answer, operation, variables = fake._answer(body, auth)
                with fake.lock:
                    fake.hits.append(Hit(time.time(), auth, operation, variables, status))
                if fake.pad_bytes and isinstance(answer, dict):
                    answer = {**answer, "extensions": {"pad": "x" * fake.pad_bytes}}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _state_id(state: str) -> str:
    return f"state-{state}"


@contextmanager
def running(fake: FakeLinear) -> Iterator[FakeLinear]:
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
