"""Pacing sends a little under Slack's limits, so 429s are the exception rather than the brake.

A limiter per workspace (``chat.postMessage`` is limited per workspace) and one per channel
(about one message per second per channel): at most ``rate`` sends in any one-second window,
or, for rates under one a second, a token bucket with a burst of one. A 429 pauses the
channel it hit for its ``Retry-After``; 429s from ``STORM`` different channels within a
second mean the workspace-wide limit, and pause the whole workspace for ``Retry-After``.
Time comes from an injected monotonic clock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_WAIT = 1e-6  # seconds; shorter waits are rounding, not rate limiting
STORM = 3  # 429s from this many channels within a second: the workspace limit


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float = 1.0
    tokens: float = 1.0
    updated: float = 0.0
    paused_until: float = 0.0

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill(now)
        pause = max(self.paused_until - now, 0.0)
        short = max(1.0 - self.tokens, 0.0) / self.rate
        return max(pause, short)

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
        self.tokens = min(self.tokens, 0.0)
        self.updated = max(self.updated, now)


@dataclass
class SlidingWindow:
    """At most ``rate`` sends in any one-second window (``rate`` >= 1).

    Unlike a token bucket with a burst of one, a stall (a slow database answer, a busy CPU)
    is caught up at once as long as the last second stays under the limit: the limit is used
    to the full without ever being crossed.
    """

    rate: float
    sent: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0

    def wait_time(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= 1.0:
            self.sent.popleft()
        pause = max(self.paused_until - now, 0.0)
        full = self.sent[0] + 1.0 - now if len(self.sent) >= int(self.rate) else 0.0
        return max(pause, full)

    def take(self, now: float) -> None:
        self.sent.append(now)

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)


Limiter = TokenBucket | SlidingWindow


def limiter(rate: float, now: float) -> Limiter:
    return SlidingWindow(rate) if rate >= 1.0 else TokenBucket(rate, 1.0, 1.0, now)


@dataclass
class Pacer:
    """Thread-safe pacing for one process. ``acquire`` blocks until a send may go out."""

    workspace_rate: float
    channel_rate: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _workspaces: dict[int, Limiter] = field(default_factory=dict)
    _channels: dict[tuple[int, str], Limiter] = field(default_factory=dict)
    _recent_429: dict[int, deque[tuple[float, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _buckets(self, ws: int, channel: str) -> tuple[Limiter, Limiter]:
        now = self.clock()
        wb = self._workspaces.get(ws)
        if wb is None:
            wb = self._workspaces[ws] = limiter(self.workspace_rate, now)
        cb = self._channels.get((ws, channel))
        if cb is None:
            if len(self._channels) > 50_000:
                self._channels.clear()  # DM channels are many and used once a week
            cb = self._channels[(ws, channel)] = limiter(self.channel_rate, now)
        return wb, cb

    def delay(self, ws: int, channel: str) -> float:
        """Seconds before a send to ``channel`` may go out (0: now)."""
        with self._lock:
            wb, cb = self._buckets(ws, channel)
            now = self.clock()
            return max(wb.wait_time(now), cb.wait_time(now))

    def acquire(self, ws: int, channel: str, *, deadline: float | None = None) -> bool:
        """Wait for both buckets and take a token from each; False if ``deadline`` comes first."""
        while True:
            with self._lock:
                wb, cb = self._buckets(ws, channel)
                now = self.clock()
                wait = max(wb.wait_time(now), cb.wait_time(now))
                # Float residue from refills leaves waits of ~1e-15 s: too small to move a
                # clock at all, so they count as no wait (and sleeps are at least 1 ms).
                if wait <= MIN_WAIT:
                    wb.take(now)
                    cb.take(now)
                    return True
            if deadline is not None and self.clock() + wait > deadline:
                return False
            self.sleep(min(max(wait, 0.001), 0.5))

    def hold(self, ws: int, seconds: float) -> None:
        """Send nothing to ``ws`` for ``seconds`` (its sending was just handed over from
        another process, whose last second must pass first)."""
        with self._lock:
            now = self.clock()
            wb = self._workspaces.get(ws)
            if wb is None:
                wb = self._workspaces[ws] = limiter(self.workspace_rate, now)
            wb.pause(now, seconds)

    def rate_limited(self, ws: int, channel: str, retry_after: float) -> None:
        """Slack answered 429 for a send to ``channel``."""
        with self._lock:
            wb, cb = self._buckets(ws, channel)
            now = self.clock()
            cb.pause(now, retry_after)
            recent = self._recent_429.setdefault(ws, deque())
            recent.append((now, channel))
            while recent and now - recent[0][0] >= 1.0:
                recent.popleft()
            if len({ch for _, ch in recent}) >= STORM:
                wb.pause(now, retry_after)  # several channels at once: the workspace limit
                recent.clear()
