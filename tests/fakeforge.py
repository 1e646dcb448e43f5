"""Local fake GitLab and GitHub: their REST APIs for reconciliation, their webhooks on change.

Each fake runs an HTTP server on a free loopback port. Items live in memory; ``set_state``
changes one like a person would on the real site and, when a hook is registered, delivers
the webhook the real service would send (headers, secret or signature, payload shape);
``set_labels`` does the same for an issue's labels and milestone. The issue searches saved
searches run (GitLab ``/projects/:id/issues?labels=&milestone=``, GitHub
``/repos/:o/:r/issues?labels=&milestone=<number>`` and ``/repos/:o/:r/milestones``) answer
page by page (``per_page``, ``page``).
``drop_hooks`` simulates webhooks lost on the way. Rate limits: every answer carries the
service's rate-limit headers; ``budget`` requests are allowed per window, ``inject_429``
refuses the next requests with ``Retry-After``.

Like the real services, items of a project in ``private`` are answered only to a request
carrying ``private_token`` (404 otherwise). ``redirect_to`` makes every API answer a 302 to
that base URL (another origin), ``pad_bytes`` makes every answer that much larger; ``hits``
records each request's credential header, so a test sees where a token went.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests


@dataclass
class Item:
    state: str  # gitlab: opened|closed|merged; github: open|closed (+ merged)
    title: str = "item"
    merged: bool = False
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    labels: list[str] = field(default_factory=list)
    milestone: str | None = None


@dataclass
class Hit:
    at: float
    path: str
    status: int
    auth: str | None


class FakeForge:
    provider = ""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, int], Item] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.token: str | None = None
        self.budget = 10_000  # requests per window
        self.window = 60.0
        self._window_start = time.time()
        self._used = 0
        self._refuse_next = 0
        self._retry_after = 1
        self.hook_url: str | None = None
        self.hook_secret = ""
        self.drop_hooks = False
        self.private: set[str] = set()
        self.private_token = ""
        self.redirect_to: str | None = None
        self.redirects_left: int | None = None  # None: every request is redirected
        self.pad_bytes = 0
        self.delivered: list[tuple[str, int]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeForge:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject_429(self, count: int = 1, retry_after: int = 1) -> None:
        with self.lock:
            self._refuse_next, self._retry_after = count, retry_after

    def exhaust(self, reset_in: float) -> None:
        """Spend the whole budget now; the window resets ``reset_in`` seconds from now."""
        with self.lock:
            self._window_start = time.time() - self.window + reset_in
            self._used = self.budget

    def api_hits(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    # --- rate limiting -------------------------------------------------------------------

    def _reset_at(self) -> float:
        return self._window_start + self.window

    def _admit(self) -> tuple[int, dict[str, str]]:
        """(status, headers): 0 to serve the request, else a refusal status."""
        with self.lock:
            now = time.time()
            if now >= self._reset_at():
                self._window_start, self._used = now, 0
            if self._refuse_next:
                self._refuse_next -= 1
                return 429, {"Retry-After": str(self._retry_after), **self._limit_headers()}
            if self._used >= self.budget:
                return self._exhausted_status(), self._limit_headers()
            self._used += 1
            return 0, self._limit_headers()

    def _exhausted_status(self) -> int:
        return 429

    def _limit_headers(self) -> dict[str, str]:
        raise NotImplementedError

    # --- the API ---------------------------------------------------------------------------

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        raise NotImplementedError

    def _credential(self, token: str) -> str:
        raise NotImplementedError

    def visible(self, project: str, auth: str | None) -> bool:
        return project not in self.private or (
            bool(self.private_token) and auth == self._credential(self.private_token))

    def _answer(self, path: str, query: dict[str, list[str]],
                auth: str | None) -> tuple[int, Any]:
        status, body = self._route(path, query)
        project = self._project_of(path)
        if status == 200 and project is not None and not self.visible(project, auth):
            return 404, {"message": "404 Not Found"}
        if self.pad_bytes and status == 200:
            return status, {"items": body, "pad": "x" * self.pad_bytes}
        return status, body

    def _project_of(self, path: str) -> str | None:
        raise NotImplementedError

    def _auth_ok(self, headers: Any) -> tuple[bool, str | None]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                ok, auth = forge._auth_ok(self.headers)
                if forge.redirect_to is not None and forge.redirects_left != 0:
                    with forge.lock:
                        if forge.redirects_left is not None:
                            forge.redirects_left -= 1
                        forge.hits.append(Hit(time.time(), split.path, 302, auth))
                    self.send_response(302)
                    self.send_header("Location", forge.redirect_to.rstrip("/") + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                refused, headers = forge._admit()
                if refused:
                    status, body = refused, {"message": "rate limit exceeded"}
                elif not ok:
                    status, body = 401, {"message": "401 Unauthorized"}
                else:
                    with forge.lock:
                        status, body = forge._answer(split.path, parse_qs(split.query), auth)
                with forge.lock:
                    forge.hits.append(Hit(time.time(), split.path, status, auth))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    # --- changes and webhooks -------------------------------------------------------------

    def add(self, project: str, kind: str, number: int, state: str, title: str = "item",
            *, labels: list[str] | None = None, milestone: str | None = None) -> None:
        with self.lock:
            self.items[(project, kind, number)] = Item(state=state, title=title,
                                                       labels=list(labels or []),
                                                       milestone=milestone)

    def set_labels(self, project: str, kind: str, number: int, labels: list[str],
                   milestone: str | None = None) -> requests.Response | None:
        """Relabel an item (and set its milestone) as a person would; the webhook follows."""
        with self.lock:
            item = self.items[(project, kind, number)]
            item.labels, item.milestone = list(labels), milestone
            item.updated_at = datetime.now(UTC)
        return self._deliver(project, kind, number, action="labeled")

    def _deliver(self, project: str, kind: str, number: int,
                 action: str | None = None) -> requests.Response | None:
        if self.hook_url is None or self.drop_hooks:
            return None
        body, headers = self.hook(project, kind, number, action=action)
        response = requests.post(self.hook_url, data=body, headers=headers, timeout=10)
        self.delivered.append((headers.get("X-GitHub-Delivery")
                               or headers.get("X-Gitlab-Event-UUID", ""), response.status_code))
        return response

    def _search(self, project: str, kind: str, query: dict[str, list[str]],
                milestone: str | None) -> list[tuple[str, str, int]]:
        """Items of a project with every label in ``labels`` (and the milestone)."""
        wanted = [lb for lb in ",".join(query.get("labels", [])).split(",") if lb]
        return [key for key, item in sorted(self.items.items())
                if key[0] == project and key[1] == kind
                and all(w.lower() in {x.lower() for x in item.labels} for w in wanted)
                and (milestone is None or item.milestone == milestone)]

    @staticmethod
    def _paged(rows: list[Any], query: dict[str, list[str]]) -> list[Any]:
        size = int(query.get("per_page", ["20"])[0])
        page = int(query.get("page", ["1"])[0])
        return rows[(page - 1) * size:page * size]

    def set_state(self, project: str, kind: str, number: int, state: str,
                  *, merged: bool = False) -> requests.Response | None:
        with self.lock:
            item = self.items[(project, kind, number)]
            item.state, item.merged = state, merged
            item.updated_at = datetime.now(UTC)
        return self._deliver(project, kind, number)

    def hook(self, project: str, kind: str, number: int, delivery: str | None = None,
             action: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The webhook for the item's current state; ``action`` "labeled" for a label or
        milestone change (GitLab says ``update``)."""
        raise NotImplementedError


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class FakeGitLab(FakeForge):
    provider = "gitlab"
    host = "gitlab.com"

    def _limit_headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.budget),
                "RateLimit-Remaining": str(max(self.budget - self._used, 0)),
                "RateLimit-Reset": str(int(self._reset_at() + 0.999))}

    def _auth_ok(self, headers: Any) -> tuple[bool, str | None]:
        given = headers.get("PRIVATE-TOKEN")
        return (self.token is None or given == self.token), given

    def _credential(self, token: str) -> str:
        return token

    def _project_of(self, path: str) -> str | None:
        parts = path.split("/")
        return unquote(parts[4]) if len(parts) > 4 else None

    def _payload(self, project: str, kind: str, number: int) -> dict[str, Any]:
        item = self.items[(project, kind, number)]
        part = "merge_requests" if kind == "merge_request" else "issues"
        return {"iid": number, "id": 1000 + number, "title": item.title, "state": item.state,
                "updated_at": _iso(item.updated_at),
                "web_url": f"https://{self.host}/{project}/-/{part}/{number}",
                "labels": list(item.labels),
                "milestone": {"title": item.milestone} if item.milestone else None}

    # A self-managed instance under a relative URL root serves /<root>/api/v4/...
    root = ""

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        if self.root:
            if not path.startswith(f"/{self.root}/"):
                return 404, {"message": "404 Not Found"}
            path = path[len(self.root) + 1:]
        parts = path.split("/")
        # /api/v4/projects/<encoded path>/<issues|merge_requests>[/<iid>]
        if len(parts) < 6 or parts[1:4] != ["api", "v4", "projects"]:
            return 404, {"message": "404 Not Found"}
        project = unquote(parts[4])
        kind = {"issues": "issue", "merge_requests": "merge_request"}.get(parts[5])
        if kind is None:
            return 404, {"message": "404 Not Found"}
        if len(parts) == 7:
            key = (project, kind, int(parts[6]))
            return (200, self._payload(*key)) if key in self.items else (404, {})
        if "iids[]" not in query:  # a search: labels, milestone, page by page
            milestone = query.get("milestone", [None])[0]
            found = self._search(project, kind, query, milestone)
            return 200, [self._payload(*key) for key in self._paged(found, query)]
        wanted = [int(v) for v in query.get("iids[]", [])]
        return 200, [self._payload(project, kind, n) for n in wanted
                     if (project, kind, n) in self.items]

    def hook(self, project: str, kind: str, number: int, delivery: str | None = None,
             action: str | None = None) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            attrs = self._payload(project, kind, number)
        attrs["url"] = attrs.pop("web_url")
        attrs["action"] = "update" if action else {"closed": "close", "merged": "merge"}.get(
            attrs["state"], "reopen")
        # Like GitLab: label objects at the top and in the attributes, the milestone's id.
        labels = [{"id": 1 + n, "title": lb} for n, lb in enumerate(attrs.pop("labels"))]
        milestone = attrs.pop("milestone")
        attrs["labels"] = labels
        attrs["milestone_id"] = 7 if milestone else None
        body = {"object_kind": kind, "event_type": kind,
                "project": {"path_with_namespace": project,
                            "web_url": f"https://{self.host}/{project}"},
                "object_attributes": attrs, "labels": labels}
        if milestone:
            body["milestone"] = milestone
        event = "Issue Hook" if kind == "issue" else "Merge Request Hook"
        return json.dumps(body).encode(), {
            "Content-Type": "application/json", "X-Gitlab-Event": event,
            "X-Gitlab-Token": self.hook_secret,
            "X-Gitlab-Event-UUID": delivery or str(uuid.uuid4()),
        }


class FakeGitHub(FakeForge):
    provider = "github"
    # (repo, number) of issues deleted on the forge: the API answers 410 Gone, like GitHub.
    deleted: set[tuple[str, int]]

    def __init__(self) -> None:
        super().__init__()
        self.deleted = set()

    def _limit_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.budget),
                "X-RateLimit-Remaining": str(max(self.budget - self._used, 0)),
                "X-RateLimit-Used": str(self._used),
                "X-RateLimit-Reset": str(int(self._reset_at() + 0.999))}

    def _exhausted_status(self) -> int:
        return 403  # GitHub's primary rate limit answers 403 with remaining 0

    def _auth_ok(self, headers: Any) -> tuple[bool, str | None]:
        given = headers.get("Authorization")
        return (self.token is None or given == f"Bearer {self.token}"), given

    def _credential(self, token: str) -> str:
        return f"Bearer {token}"

    def _project_of(self, path: str) -> str | None:
        parts = path.split("/")
        return f"{parts[2]}/{parts[3]}" if len(parts) > 3 else None

    def _payload(self, project: str, kind: str, number: int) -> dict[str, Any]:
        item = self.items[(project, kind, number)]
        body: dict[str, Any] = {"number": number, "title": item.title, "state": item.state,
                                "updated_at": _iso(item.updated_at),
                                "html_url": f"https://github.com/{project}/issues/{number}",
                                "labels": [{"name": lb} for lb in item.labels],
                                "milestone": {"title": item.milestone,
                                              "number": self._milestone_number(item.milestone)}
                                if item.milestone else None}
        if kind == "pull_request":
            body["pull_request"] = {
                "merged_at": _iso(item.updated_at) if item.merged else None}
        return body

    def _milestone_number(self, title: str) -> int:
        titles = sorted({i.milestone for i in self.items.values() if i.milestone})
        return titles.index(title) + 1

    def _list(self, project: str, what: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        """The issues list (a search: pull requests included, like GitHub) or milestones."""
        if what == "milestones":
            titles = sorted({i.milestone for (p, _k, _n), i in self.items.items()
                             if p == project and i.milestone})
            rows = [{"title": t, "number": self._milestone_number(t)} for t in titles]
            return 200, self._paged(rows, query)
        raw = query.get("milestone", [None])[0]
        title = None
        if raw is not None:
            numbers = {self._milestone_number(i.milestone): i.milestone
                       for i in self.items.values() if i.milestone}
            title = numbers.get(int(raw), "\0no such milestone")
        found = sorted(self._search(project, "issue", query, title)
                       + self._search(project, "pull_request", query, title),
                       key=lambda key: key[2])
        return 200, [self._payload(*key) for key in self._paged(found, query)]

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        parts = path.split("/")
        if len(parts) == 5 and parts[1] == "repos" and parts[4] in ("issues", "milestones"):
            return self._list(f"{parts[2]}/{parts[3]}", parts[4], query)
        # /repos/<owner>/<repo>/issues/<n>: answers for pull requests too, like GitHub
        if len(parts) != 6 or parts[1] != "repos" or parts[4] != "issues":
            return 404, {"message": "Not Found"}
        project, number = f"{parts[2]}/{parts[3]}", int(parts[5])
        if (project, number) in self.deleted:
            return 410, {"message": "This issue was deleted"}
        for kind in ("issue", "pull_request"):
            if (project, kind, number) in self.items:
                return 200, self._payload(project, kind, number)
        return 404, {"message": "Not Found"}

    def hook(self, project: str, kind: str, number: int, delivery: str | None = None,
             action: str | None = None) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            item = self.items[(project, kind, number)]
            obj = self._payload(project, kind, number)
        event = "issues" if kind == "issue" else "pull_request"
        if kind == "pull_request":
            obj.pop("pull_request")
            obj["merged"] = item.merged
            obj["merged_at"] = _iso(item.updated_at) if item.merged else None
        action = action or ("closed" if item.state == "closed" else "reopened")
        if kind == "pull_request":
            obj.pop("labels", None)
            obj.pop("milestone", None)
        body = {"action": action, ("issue" if kind == "issue" else "pull_request"): obj,
                "repository": {"full_name": project, "html_url": f"https://github.com/{project}"}}
        raw = json.dumps(body).encode()
        signature = hmac.new(self.hook_secret.encode(), raw, hashlib.sha256).hexdigest()
        return raw, {"Content-Type": "application/json", "X-GitHub-Event": event,
                     "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                     "X-Hub-Signature-256": f"sha256={signature}"}


@contextmanager
def running(forge: FakeForge) -> Iterator[FakeForge]:
    forge.start()
    try:
        yield forge
    finally:
        forge.stop()
