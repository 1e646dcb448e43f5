"""Work queued after an ack waits until no request is being answered.

Its CPU would otherwise hold the interpreter lock while an answer is written (and while the
next request is read): it starts once the app has been idle a moment, or once it has waited
``max_defer`` under steady traffic.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy.orm import sessionmaker

from app.config import Settings
from handlers.context import Env


def _env(max_defer: float = 5.0) -> Env:
    env = Env(Settings(_env_file=None), sessionmaker(),
              clock=lambda: datetime.now(UTC), executor=ThreadPoolExecutor(2))
    env.max_defer = max_defer
    return env


def test_work_queued_during_a_request_starts_after_it() -> None:
    env = _env()
    ran = threading.Event()
    with env.busy():
        future = env.later(ran.set)
        time.sleep(0.05)
        assert not ran.is_set()
    assert ran.wait(2)
    assert future.result(1) is None


def test_work_queued_while_idle_starts_at_once() -> None:
    env = _env()
    ran = threading.Event()
    env.later(ran.set)
    assert ran.wait(0.5)


def test_steady_traffic_holds_work_back_for_max_defer_at_most() -> None:
    env = _env(max_defer=0.1)
    ran = threading.Event()
    started = time.monotonic()
    with env.busy():
        env.later(ran.set)
        assert ran.wait(2)  # still answering a request: it ran anyway
    assert time.monotonic() - started >= 0.1


def test_drain_runs_what_waits() -> None:
    env = _env()
    done: list[int] = []
    with env.busy():
        env.later(done.append, 1)
        env.drain()
        assert done == [1]


def test_work_waits_for_a_quiet_moment_after_the_last_request() -> None:
    env = _env()
    env.idle_grace = 0.05
    ran = threading.Event()
    with env.busy():
        env.later(ran.set)
    with env.busy():  # the next request, right after: still not
        assert not ran.wait(0.02)
    started = time.monotonic()
    assert ran.wait(2)
    assert time.monotonic() - started >= 0.04


def test_long_work_lets_requests_go_first_between_its_steps() -> None:
    env = _env()
    steps: list[str] = []
    answered = threading.Event()

    def work() -> None:
        steps.append("first")
        answered.wait(1)  # a request comes in meanwhile
        env.wait_idle()
        steps.append("second")

    env.later(work)
    with env.busy():
        answered.set()
        time.sleep(0.05)
        assert steps == ["first"]
    env.drain()
    assert steps == ["first", "second"]
