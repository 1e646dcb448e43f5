"""A minimal Socket Mode endpoint: a WebSocket server on 127.0.0.1 for slack_sdk's client.

Answer ``apps.connections.open`` on the fake Web API with ``{"url": socket.url}``; the app
connects here. :meth:`send` delivers an envelope (a slash command, an interaction, an event);
the app's acks arrive in :attr:`acks`. Only what the client uses is implemented: the opening
handshake, text frames (ours unmasked, the client's masked), ping/pong and close.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self.acks: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="fake-socket")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.close()
        self._server.close()

    # --- the server ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(None)
            if self._handshake(conn):
                self._client = conn
                self._frame(0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
                self.connected.set()
                threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _handshake(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return False
            data += chunk
        headers = {}
        for line in data.decode().split("\r\n")[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        key = headers.get("sec-websocket-key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return True

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = conn.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def _read(self, conn: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                b1, b2 = self._recv_exact(conn, 2)
                opcode, masked, length = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
                if length == 126:
                    length = struct.unpack("!H", self._recv_exact(conn, 2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self._recv_exact(conn, 8))[0]
                mask = self._recv_exact(conn, 4) if masked else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(
                    self._recv_exact(conn, length)))
                if opcode == 0x1:
                    with self._lock:
                        self.acks.append(json.loads(payload))
                elif opcode == 0x9:
                    self._frame(0xA, payload)
                elif opcode == 0x8:
                    return
        except (ConnectionError, OSError, ValueError):
            return

    def _frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([n])
        elif n < 65536:
            header += bytes([126]) + struct.pack("!H", n)
        else:
            header += bytes([127]) + struct.pack("!Q", n)
        with self._lock:
            assert self._client is not None, "no client connected"
            self._client.sendall(header + payload)

    # --- what tests use -----------------------------------------------------------------------

    def send(self, envelope: dict[str, Any]) -> None:
        self._frame(0x1, json.dumps(envelope).encode())

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            time.sleep(0.02)
        raise AssertionError(f"no ack for envelope {envelope_id}")
