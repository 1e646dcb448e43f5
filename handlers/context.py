"""What every Slack listener gets besides Bolt's own arguments.

The middleware in ``app/slack.py`` puts these into Bolt's ``context``, and Bolt injects context
keys as listener keyword arguments:

- ``env``: the process-wide :class:`Env` (settings, session factory, clock, executor),
- ``workspace_id``: the request's workspace (every query filters by it),
- ``person``: the acting :class:`Actor` (app/services/tenancy/actors.py; None for events
  without a user),
- ``now``: the request's instant (aware UTC).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from app.config import Settings
from app.services.okrs.cache import ReportCache
from app.services.tenancy.actors import Actor, ActorCache
from app.services.tx import SessionFactory, Tx, transaction

__all__ = ["Actor", "Env"]

log = logging.getLogger(__name__)


class Env:
    """Process-wide dependencies of the listeners. Shared, never copied (see __deepcopy__)."""

    def __init__(self, settings: Settings, session_factory: SessionFactory, *,
                 clock: Callable[[], datetime], executor: ThreadPoolExecutor) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.executor = executor
        # Slack team id -> workspace id; a workspace's id never changes while it exists.
        self.workspace_ids: dict[str, int] = {}
        # The OAuth installation store (None with a single bot token).
        self.installation_store: Any = None
        self.authorize: Any = None  # Bolt's InstallationStoreAuthorize, whose cache we clear
        self.report_cache = ReportCache()
        self.actors = ActorCache()
        # Seconds to wait before a coalesced task (see later_once); tests use 0.
        self.coalesce_delay = 1.0
        # Work queued with later() waits until no Slack request is being answered (see busy)
        # and ``idle_grace`` seconds more, ``max_defer`` seconds at most (0: it does not wait).
        self.idle_grace = 0.01
        self.max_defer = 0.25
        self._pending: set[Future[Any]] = set()
        self._timers: set[threading.Timer] = set()
        self._waiting: set[object] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._deferred: list[tuple[Future[Any], Callable[[], Any]]] = []
        self._oldest = 0.0  # when the first of the deferred tasks was queued (monotonic)
        self._quiet_since = 0.0  # when the last request was answered (monotonic)
        self._dispatcher: threading.Thread | None = None

    def __copy__(self) -> Env:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Env:
        # Bolt deep-copies the context for lazy listeners; this object is meant to be shared.
        return self

    @contextmanager
    def session(self) -> Iterator[Tx]:
        """One transaction: commits on success, rolls back on error. Listeners pass the handle
        to service functions and never look inside it."""
        with transaction(self.session_factory) as tx:
            yield tx

    @contextmanager
    def busy(self) -> Iterator[None]:
        """A Slack request is being answered (entered by the HTTP view and again around Bolt's
        dispatch, see ``app.slack``). Work queued
        with :meth:`later` meanwhile waits until none is: its CPU would hold the interpreter
        lock while the answer is written, and the next request would wait for it in turn."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                if not self._busy:
                    self._quiet_since = time.monotonic()
                    self._idle.notify_all()

    def later(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` after the ack, on the listener executor, once no request is being
        answered (see :meth:`busy`); errors are logged, not raised."""

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:
                log.exception("slack.after_ack_failed",
                              extra={"task": getattr(fn, "__name__", "?")})
                return None

        future: Future[Any] = Future()
        future.add_done_callback(self._done)
        with self._idle:
            self._pending.add(future)
            deferred = self._busy > 0 and self.max_defer > 0
            if deferred:
                if not self._deferred:
                    self._oldest = time.monotonic()
                self._deferred.append((future, run))
                self._start_dispatcher()
                self._idle.notify_all()
        if not deferred:
            self._submit(future, run)
        return future

    def _submit(self, future: Future[Any], run: Callable[[], Any]) -> None:
        def task() -> None:
            if future.set_running_or_notify_cancel():
                future.set_result(run())

        try:
            self.executor.submit(task)
        except RuntimeError:  # shut down: the work is dropped, as the executor would
            log.warning("slack.after_ack_dropped")
            future.cancel()  # (its done callback forgets it)

    def _start_dispatcher(self) -> None:
        """(Holding the lock.) The thread that starts deferred work, once."""
        if self._dispatcher is None:
            self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                                name="okr-after-ack")
            self._dispatcher.start()

    def _dispatch(self) -> None:
        """Start deferred work once no request has been answered for ``idle_grace`` seconds,
        or once the oldest has waited ``max_defer``."""
        while True:
            with self._idle:
                while not self._deferred:
                    if not self._idle.wait(60) and not self._deferred:
                        self._dispatcher = None  # idle a minute: the next deferral starts one
                        return
                deadline = self._oldest + self.max_defer
                while (now := time.monotonic()) < deadline:
                    quiet = 0.0 if self._busy else self._quiet_since + self.idle_grace - now
                    if not self._busy and quiet <= 0:
                        break
                    self._idle.wait(min(deadline - now, quiet) if quiet > 0 else
                                    deadline - now)
                tasks, self._deferred = self._deferred, []
            for future, run in tasks:
                self._submit(future, run)

    def wait_idle(self) -> None:
        """(In work queued with :meth:`later`.) Let requests being answered go first: wait
        until none is, ``max_defer`` seconds at most. Long work calls it between its steps."""
        deadline = time.monotonic() + self.max_defer
        with self._idle:
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)

    def later_once(self, key: object, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` after ``coalesce_delay`` seconds, once for any burst of calls with the same
        ``key`` (e.g. one Home refresh for a quick series of changes by one person)."""
        with self._lock:
            if key in self._waiting:
                return
            self._waiting.add(key)

        def fire() -> Any:
            with self._lock:
                self._waiting.discard(key)
            return fn(*args)

        if self.coalesce_delay <= 0:
            self.later(fire)
            return
        timer = threading.Timer(self.coalesce_delay, self._fire_timer, args=(fire,))
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _fire_timer(self, fire: Callable[[], Any]) -> None:
        self.later(fire)  # queued before the timer forgets itself, so drain() sees it
        with self._lock:
            self._timers.discard(threading.current_thread())

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for work queued with :meth:`later` (tests, graceful shutdown)."""
        while True:
            with self._lock:
                tasks, self._deferred = self._deferred, []
            for future, run in tasks:
                self._submit(future, run)
            with self._lock:
                timers = set(self._timers)
            for timer in timers:
                timer.join(timeout)
            with self._lock:
                self._timers -= timers
                pending = set(self._pending)
            if not pending and not self._timers:
                return
            _done, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} task(s) still running after {timeout}s")
