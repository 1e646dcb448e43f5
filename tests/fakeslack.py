"""A fake Slack Web API: a real HTTP server on 127.0.0.1 (free port) in a thread.

Point a ``WebClient(base_url=fake.api_url)`` (or ``SLACK_API_URL``) at it. It records every call
(``fake.calls``), answers the methods the app uses with Slack-shaped responses, keeps the
messages, modals and Home tabs it was sent, checks every payload against the Block Kit limits
(``fake.violations``; the ``fake_slack`` fixture fails a test that left any) and can inject
429s, 5xx, Slack errors and slowness per method.

Usage::

    with FakeSlack() as fake:
        fake.add_user("U0ADA", name="Ada", tz="Europe/Berlin")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        fake.fail_next("chat.postMessage", "channel_not_found")
        fake.rate_limit_next("users.info", count=2, retry_after=1)
        fake.rate_limit("chat.postMessage", per_second=20)
        ...
        assert fake.calls_to("chat.postMessage")[0].params["channel"] == "U0ADA"

Response URLs: ``fake.response_url("abc")`` is ``http://127.0.0.1:<port>/response/abc``;
what was posted there is in ``fake.responses("abc")`` (or ``fake.calls_to("response")``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.slack import fakemethods
from tests.slack.blockkit import validate_message, validate_view

JSON_FIELDS = ("blocks", "view", "attachments", "files", "users", "metadata")
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Call:
    method: str  # Web API method, "response" for response_url posts, "upload" for file bytes
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    path: str
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else self.params.get("token")


@dataclass
class _Fault:
    count: int
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


class FakeSlack:
    """The server and its state. Thread-safe: every mutation holds ``self.lock``."""

    def __init__(self, *, team_id: str = "T0TEST", bot_user_id: str = "U0BOT",
                 strict_triggers: bool = True) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.strict_triggers = strict_triggers
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}  # id -> user ids
        self.usergroup_info: dict[str, dict[str, Any]] = {}  # id -> handle, name
        self.channel_members: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.used_triggers: set[str] = set()
        self.handlers: dict[str, Handler] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._rates: dict[str, tuple[float, int]] = {}
        self._window: dict[str, deque[float]] = defaultdict(deque)
        self._delays: dict[str, float] = {}
        self._reply_delays: dict[str, float] = {}
        self._seq = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class _Handler(_RequestHandler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        server = self._server
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.02),
                                        daemon=True, name="fake-slack")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` / ``WebClient(base_url=...)`` should be (trailing slash)."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    # --- configuration ---------------------------------------------------------------------

    def add_user(self, user_id: str, *, name: str | None = None, tz: str = "Europe/Berlin",
                 deleted: bool = False, is_bot: bool = False, email: str | None = None,
                 **extra: Any) -> dict[str, Any]:
        name = name or user_id
        user = {
            "id": user_id, "team_id": self.team_id, "name": name.lower(), "real_name": name,
            "deleted": deleted, "is_bot": is_bot, "tz": tz, "tz_label": tz,
            "tz_offset": 0, "is_restricted": False,
            "profile": {"display_name": name, "real_name": name, "email": email},
            **extra,
        }
        with self.lock:
            self.users[user_id] = user
        return user

    def add_usergroup(self, group_id: str, handle: str, users: list[str], *,
                      name: str | None = None) -> None:
        """A user group: listed by usergroups.list, its users by usergroups.users.list."""
        with self.lock:
            self.usergroups[group_id] = list(users)
            self.usergroup_info[group_id] = {"handle": handle, "name": name or handle}

    def on(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(params)`` (a dict; ``ok`` defaults to True)."""
        with self.lock:
            self.handlers[method] = handler

    def fail_next(self, method: str, error: str = "internal_error", *, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        with self.lock:
            self._faults[method].append(_Fault(count=count, error=error))

    def rate_limit_next(self, method: str, *, count: int = 1, retry_after: int = 1) -> None:
        with self.lock:
            self._faults[method].append(_Fault(count=count, status=429, error="ratelimited",
                                               retry_after=retry_after))

    def server_error_next(self, method: str, *, count: int = 1, status: int = 500) -> None:
        with self.lock:
            self._faults[method].append(_Fault(count=count, status=status))

    def rate_limit(self, method: str, *, per_second: float, retry_after: int = 1) -> None:
        """Answer 429 beyond ``per_second`` calls of ``method`` in any sliding second."""
        with self.lock:
            self._rates[method] = (per_second, retry_after)

    def slow(self, method: str, seconds: float) -> None:
        with self.lock:
            self._delays[method] = seconds

    def slow_reply(self, method: str, seconds: float) -> None:
        """Process ``method`` at once but answer only after ``seconds``: the call takes effect
        even if the caller gives up or dies waiting (an ambiguous send)."""
        with self.lock:
            self._reply_delays[method] = seconds

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # --- inspection ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.status == 200]

    def responses(self, key: str | None = None) -> list[dict[str, Any]]:
        """Payloads posted to response URLs (all of them, or those of one key)."""
        with self.lock:
            return [c.params for c in self.calls if c.method == "response"
                    and (key is None or c.path.endswith(f"/{key}"))]

    def home(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.homes.get(user_id)

    def last_view(self) -> dict[str, Any] | None:
        with self.lock:
            opened = [c for c in self.calls
                      if c.method in VIEW_METHODS[:3] and c.response.get("ok")]
            return opened[-1].response["view"] if opened else None

    def assert_no_violations(self) -> None:
        with self.lock:
            problems = list(self.violations)
        assert not problems, "Block Kit violations:\n" + "\n".join(problems)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` arrived (work after ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        got = len(self.calls_to(method))
        raise AssertionError(f"expected {count} call(s) to {method}, got {got}")

    # --- request handling ------------------------------------------------------------------

    def next_ts(self) -> str:
        n = next(self._seq)
        return f"{1_700_000_000 + n}.{n:06d}"

    def _fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if queue:
            fault = queue[0]
            fault.count -= 1
            if fault.count <= 0:
                queue.popleft()
            return fault
        rate = self._rates.get(method)
        if rate is not None:
            per_second, retry_after = rate
            now = time.monotonic()
            window = self._window[method]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= per_second:
                return _Fault(count=1, status=429, error="ratelimited", retry_after=retry_after)
            window.append(now)
        return None

    def handle(self, method: str, params: dict[str, Any], headers: dict[str, str],
               path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        delay = self._delays.get(method, 0.0)
        if delay:
            time.sleep(delay)
        with self.lock:
            call = Call(method=method, params=params, headers=headers, at=time.time(), path=path)
            self.calls.append(call)
            fault = self._fault(method)
            if fault is not None and (fault.status != 200 or fault.error):
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                body = {"ok": False, "error": fault.error or "internal_error"}
                call.status, call.response = fault.status, body
                return fault.status, body, extra
            self._validate(method, params)
            body = self._answer(method, params, path)
            call.response = body
            after = self._reply_delays.get(method, 0.0)
        if after:
            time.sleep(after)
        return 200, body, {}

    def _validate(self, method: str, params: dict[str, Any]) -> None:
        if method in MESSAGE_METHODS or method == "response":
            self.violations += validate_message(params, where=method)
        elif method in VIEW_METHODS:
            self.violations += validate_view(params.get("view"), where=method)
        elif method == "chat.postMessage" and not params.get("channel"):
            self.violations.append(f"{method}: channel missing")

    def _answer(self, method: str, p: dict[str, Any], path: str) -> dict[str, Any]:
        custom = self.handlers.get(method)
        if custom is not None:
            return {"ok": True, **custom(p)}
        return fakemethods.answer(self, method, p, path)


class _RequestHandler(BaseHTTPRequestHandler):
    owner: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, raw: bytes) -> None:
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        if parts.path.startswith("/upload/"):
            method = "upload"
            params.update({"file_id": parts.path.rsplit("/", 1)[-1], "length": len(raw)})
        else:
            params.update(_parse_body(raw, headers.get("content-type", "")))
            if parts.path.startswith("/response/"):
                method = "response"
            elif parts.path.startswith("/api/"):
                method = parts.path[len("/api/"):].strip("/")
            else:
                self._reply(404, {"ok": False, "error": "unknown_path"}, {})
                return
        status, body, extra = self.owner.handle(method, params, headers, parts.path)
        self._reply(status, body, extra)

    def _reply(self, status: int, body: dict[str, Any], extra: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            loaded = json.loads(text)
        except ValueError:
            return {"_raw": text}
        return loaded if isinstance(loaded, dict) else {"_raw": loaded}
    params: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


@pytest.fixture()
def fake_slack() -> Iterator[FakeSlack]:
    """A started fake Slack; the test fails if any payload broke a Block Kit limit.

    Import it into a conftest to use it: ``from tests.fakeslack import fake_slack  # noqa: F401``.
    """
    with FakeSlack() as fake:
        yield fake
        fake.assert_no_violations()
