"""The token buckets, on a fake monotonic clock."""

from __future__ import annotations

from scheduler.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def pacer(ws_rate: float = 10.0, ch_rate: float = 1.0) -> tuple[Pacer, FakeTime]:
    t = FakeTime()
    return Pacer(ws_rate, ch_rate, clock=t.clock, sleep=t.sleep), t


def test_workspace_rate_is_never_exceeded_in_any_second() -> None:
    p, t = pacer(10.0, 1000.0)
    stamps = []
    for i in range(200):
        assert p.acquire(1, f"U{i}")
        stamps.append(t.now)
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s - start < 1.0]
        assert len(in_window) <= 10  # never more than the rate in any second
    assert 19.0 <= stamps[-1] - stamps[0] <= 20.5  # ~10 per second


def test_one_channel_gets_one_message_a_second() -> None:
    p, t = pacer(100.0, 1.0)
    start = t.now
    for _ in range(5):
        p.acquire(1, "C0ENG")
    assert 3.9 <= t.now - start <= 4.1
    assert p.delay(1, "C0OTHER") <= 0.011  # only the workspace beat, not the channel second


def test_a_429_pauses_its_channel_and_a_storm_the_workspace() -> None:
    p, _ = pacer(100.0, 100.0)
    p.rate_limited(1, "U1", 5.0)
    assert p.delay(1, "U1") >= 4.9
    assert p.delay(1, "U2") < 0.1  # one 429 holds up its own channel only
    p.rate_limited(1, "U2", 5.0)
    p.rate_limited(1, "U3", 5.0)
    assert p.delay(1, "U9") >= 4.9  # three channels within a second: the workspace limit
    assert p.delay(2, "U9") == 0.0  # other workspaces carry on


def test_acquire_gives_up_at_the_deadline() -> None:
    p, t = pacer(1.0, 1.0)
    assert p.acquire(1, "U1")
    assert not p.acquire(1, "U2", deadline=t.now + 0.5)
