"""A minimal in-process stand-in for Slack's Web API, for ``okr demo``.

It answers the few methods the scheduler calls (``chat.postMessage``, ``conversations.open``,
``conversations.history``, ``conversations.replies``, ``auth.test``) and records every
message, so the demo can run the real delivery code with no Slack workspace. It listens on
127.0.0.1 on a free port. (The test suite has a much richer fake in tests/fakeslack.py.)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorder:
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if method == "chat.postMessage":
                channel = str(params.get("channel") or "")
                if not channel:
                    return {"ok": False, "error": "channel_not_found"}
                n = next(self._seq)
                ts = f"{1_700_000_000 + n}.{n:06d}"
                dm = "D" + channel[1:] if channel[:1] in ("U", "W") else channel
                self.messages.append({**params, "channel": dm, "to": channel, "ts": ts})
                return {"ok": True, "channel": dm, "ts": ts}
            if method == "conversations.open":
                users = str(params.get("users") or "").split(",")[0]
                return {"ok": True, "channel": {"id": "D" + users[1:]}}
            if method in ("conversations.history", "conversations.replies"):
                channel = str(params.get("channel") or "")
                found = [m for m in self.messages if m["channel"] == channel]
                return {"ok": True, "messages": found[::-1], "has_more": False}
            if method == "auth.test":
                return {"ok": True, "team_id": "T0DEMO", "user_id": "U0BOT"}
            return {"ok": False, "error": "unknown_method"}


class FakeSlackServer:
    """``with FakeSlackServer() as fake: WebClient(base_url=fake.api_url)``."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self._server: ThreadingHTTPServer | None = None

    @property
    def api_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.recorder.messages

    def __enter__(self) -> FakeSlackServer:
        recorder = self.recorder

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                body = _params(raw.decode("utf-8", "replace"),
                               self.headers.get("content-type", ""))
                method = urlsplit(self.path).path.removeprefix("/api/").strip("/")
                data = json.dumps(recorder.answer(method, body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="demo-slack").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _params(text: str, content_type: str) -> dict[str, Any]:
    if not text:
        return {}
    if "json" in content_type:
        loaded = json.loads(text)
        return loaded if isinstance(loaded, dict) else {}
    params: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "metadata"):
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params
