"""Pacing sends a little under Slack's limits, so 429s are the exception rather than the brake.

A limiter per workspace (``chat.postMessage`` is limited per workspace) and one per channel
(about one message per second per channel): at most ``rate`` sends in any one-second window,
or, for rates under one a second, a token bucket with a burst of one. Time comes from an
injected monotonic clock.

- **A send holds its place until Slack may have counted it.** Slack counts a request when it
  arrives, somewhere between our call and its answer, so a window stamped at the call alone
  lets network jitter put ``rate + 1`` arrivals in one of Slack's seconds. Once answered, a
  send is stamped again at its answer less the quickest round trip seen (the network's fixed
  delay, not queueing): it leaves the window a second after the latest moment it can have
  been counted. So ``rate`` can be Slack's limit itself, and the cost is the jitter, not the
  round trip.
- **429s.** One pauses the channel it hit for its ``Retry-After``. 429s from ``STORM``
  different channels within a second mean the workspace-wide limit: Slack's window is full.
  With a ``Retry-After`` of up to a second (the window's own length) the workspace's window
  is taken to be full as well: the room it thought it had is closed for ``Retry-After``, and
  the sends already in it leave it as usual, so the workspace goes on at the pace its window
  allows, a send at a time as the oldest age out, instead of every send stopping for a whole
  second. A storm again within ``STORM_AGAIN`` seconds of the last one, or a longer
  ``Retry-After``, is not the window's edge: then the whole workspace waits ``Retry-After``.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MIN_WAIT = 1e-6  # seconds; shorter waits are rounding, not rate limiting
STORM = 3  # 429s from this many channels within a second: the workspace limit
STORM_AGAIN = 5.0  # seconds: a storm this soon after the last one pauses the workspace
SWEEP = 1024  # channel limiters kept before the idle ones are let go
IDLE = 60.0  # seconds without a send after which a window is idle (longer than any answer)


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

    def idle(self, now: float) -> bool:
        """Full and not paused: no different from a new bucket."""
        return self.paused_until <= now and \
            self.tokens + max(now - self.updated, 0.0) * self.rate >= self.capacity

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
    to the full without ever being crossed. ``sent`` holds each send's stamp, in order: its
    call, then (``restamp``) the latest moment Slack can have counted it.
    """

    rate: float
    sent: list[float] = field(default_factory=list)
    paused_until: float = 0.0

    def _prune(self, now: float) -> None:
        old = bisect.bisect_right(self.sent, now - 1.0)
        if old:
            del self.sent[:old]

    def wait_time(self, now: float) -> float:
        self._prune(now)
        pause = max(self.paused_until - now, 0.0)
        full = self.sent[-int(self.rate)] + 1.0 - now \
            if len(self.sent) >= int(self.rate) else 0.0
        return max(pause, full)

    def idle(self, now: float) -> bool:
        """Not paused and no send for a while (an answer still to come restamps its send):
        no different from a new window."""
        return self.paused_until <= now and (not self.sent or self.sent[-1] <= now - IDLE)

    def take(self, now: float) -> None:
        bisect.insort(self.sent, now)

    def restamp(self, started: float, counted: float) -> None:
        """The send taken at ``started`` may have been counted as late as ``counted``."""
        at = bisect.bisect_left(self.sent, started)
        if at < len(self.sent) and self.sent[at] == started:
            del self.sent[at]
        bisect.insort(self.sent, max(counted, started))

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)

    def fill(self, now: float, seconds: float) -> None:
        """The window is full as far as Slack is concerned: its free room opens in
        ``seconds`` (at most one), the sends already in it leave it as usual."""
        self._prune(now)
        room = int(self.rate) - len(self.sent)
        for _ in range(max(room, 0)):
            bisect.insort(self.sent, now + seconds - 1.0)


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
    _storms: dict[int, float] = field(default_factory=dict)  # workspace -> its last storm
    _fastest: float = float("inf")  # the quickest round trip seen (seconds)
    _sweep_at: int = SWEEP  # channels kept when the idle ones are next let go
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _buckets(self, ws: int, channel: str) -> tuple[Limiter, Limiter]:
        now = self.clock()
        wb = self._workspaces.get(ws)
        if wb is None:
            wb = self._workspaces[ws] = limiter(self.workspace_rate, now)
        cb = self._channels.get((ws, channel))
        if cb is None:
            if len(self._channels) >= self._sweep_at:
                self._forget_idle(now)
            cb = self._channels[(ws, channel)] = limiter(self.channel_rate, now)
        return wb, cb

    def _forget_idle(self, now: float) -> None:
        """DM channels are many and each is used once a week or so: the limiters with nothing
        left to remember (a new one would do the same) go, so they do not pile up; the next
        sweep comes when the kept ones have doubled (at least ``SWEEP`` apart)."""
        for key in [k for k, lim in self._channels.items() if lim.idle(now)]:
            del self._channels[key]
        self._sweep_at = max(SWEEP, 2 * len(self._channels))

    def delay(self, ws: int, channel: str) -> float:
        """Seconds before a send to ``channel`` may go out (0: now)."""
        with self._lock:
            wb, cb = self._buckets(ws, channel)
            now = self.clock()
            return max(wb.wait_time(now), cb.wait_time(now))

    def acquire(self, ws: int, channel: str, *,
                deadline: float | None = None) -> float | None:
        """Wait for both limiters and take a place in each: the instant taken (pass it to
        ``answered``), or None if ``deadline`` comes first."""
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
                    return now
            if deadline is not None and self.clock() + wait > deadline:
                return None
            self.sleep(min(max(wait, 0.001), 0.5))

    def answered(self, ws: int, channel: str, started: float) -> None:
        """Slack answered the send let go at ``started`` (whatever the answer): it may have
        been counted up to the answer less the quickest round trip seen."""
        with self._lock:
            now = self.clock()
            self._fastest = min(self._fastest, now - started)
            counted = now - self._fastest
            for limiter_ in (self._workspaces.get(ws), self._channels.get((ws, channel))):
                if isinstance(limiter_, SlidingWindow):
                    limiter_.restamp(started, counted)

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
                # Several channels at once: the workspace limit (see the module docstring).
                recent.clear()
                last, self._storms[ws] = self._storms.get(ws), now
                if isinstance(wb, SlidingWindow) and retry_after <= 1.0 and \
                        (last is None or now - last > STORM_AGAIN):
                    wb.fill(now, retry_after)
                else:
                    wb.pause(now, retry_after)
