"""The token buckets, on a fake monotonic clock."""

from __future__ import annotations

import random

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


def send(p: Pacer, t: FakeTime, channel: str, out: float, back: float) -> float:
    """One send over a simulated network: ``out`` seconds to reach Slack, ``back`` for the
    answer. Returns when Slack counted it (its arrival)."""
    started = p.acquire(1, channel)
    assert started is not None
    t.now += out
    arrived = t.now
    t.now += back
    p.answered(1, channel, started)
    return arrived


def most_in_a_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for s in stamps[i:] if s - start < 1.0) for i, start in enumerate(stamps))


def test_a_send_keeps_its_place_until_a_second_after_its_answer() -> None:
    p, t = pacer(2.0, 1000.0)
    send(p, t, "U1", 0.0005, 0.0005)  # the quickest round trip: 1 ms
    send(p, t, "U2", 0.1995, 0.0005)  # queued on the way: answered 200 ms after the call
    started = t.now
    assert p.acquire(1, "U3")  # the window is full until the first send leaves it
    assert abs(t.now - (started - 0.201 + 1.0)) < 0.002
    assert p.acquire(1, "U4")
    # The second send may have reached Slack as late as its answer less the quickest trip
    # (at 0.2 s, not at its call at 0.001 s): only a second after that is there room.
    assert t.now >= started - 0.001 + 1.0 - 0.0015


def test_jitter_on_the_way_never_puts_more_than_the_rate_in_slack_s_second() -> None:
    # Slack counts a send when it arrives; arrivals queue behind one another by up to 30 ms
    # while the answers come back at the network's fixed delay. Paced at the limit itself.
    rng = random.Random(3)
    p, t = pacer(10.0, 1000.0)
    arrivals = [send(p, t, f"U{i}", 0.002 + (rng.uniform(0.0, 0.03) if i else 0.0), 0.002)
                for i in range(300)]
    assert most_in_a_second(arrivals) <= 10
    assert 300 / (t.now - 100.0) > 9.0  # the jitter costs a little, not the round trip


def test_a_lone_storm_at_the_limit_costs_no_pause_of_the_workspace() -> None:
    p, t = pacer(10.0, 1000.0)
    for i in range(10):  # the window is full: Slack's is too
        assert p.acquire(1, f"U{i}")
        t.now += 0.05
    for channel in ("U0", "U1", "U2"):
        p.rate_limited(1, channel, 1.0)
    # The window was already full: the sends in it leave as usual (the first at 101.0).
    assert p.delay(1, "U9") <= 101.0 - t.now + 1e-9
    assert p.delay(1, "U0") >= 0.99  # the channels that were refused wait Retry-After
    t.now = 101.0
    assert p.delay(1, "U9") == 0.0


def test_a_storm_closes_the_room_the_window_had_for_retry_after() -> None:
    p, t = pacer(10.0, 1000.0)
    for i in range(4):  # 6 places free as far as the window knows
        assert p.acquire(1, f"U{i}")
    for channel in ("U0", "U1", "U2"):
        p.rate_limited(1, channel, 1.0)
    start = t.now
    sent = []
    for i in range(10):
        assert p.acquire(1, f"V{i}")
        sent.append(t.now - start)
    assert sent[0] >= 0.99  # the 4 in the window leave at 1 s, the 6 places open at 1 s
    assert most_in_a_second([*([-0.0] * 4), *sent]) <= 10


def test_a_storm_again_soon_after_pauses_the_whole_workspace() -> None:
    p, t = pacer(10.0, 1000.0)
    for round_ in range(2):
        for i in range(10):
            assert p.acquire(1, f"U{round_}{i}")
        for channel in ("U0", "U1", "U2"):
            p.rate_limited(1, f"{channel}{round_}", 1.0)
        t.now += 1.5
    t.now -= 1.5
    # The second storm 1.5 s after the first is not the window's edge: Retry-After for all.
    assert p.delay(1, "W1") >= 0.99
    p2, _ = pacer(10.0, 1000.0)
    for channel in ("U0", "U1", "U2"):
        p2.rate_limited(1, channel, 30.0)  # longer than the window: a pause, whatever else
    assert p2.delay(1, "W1") >= 29.9


def test_idle_dm_channels_are_let_go_and_a_paused_one_is_kept() -> None:
    for ch_rate in (0.9, 1.0):  # a token bucket per channel, a one-second window per channel
        p, t = pacer(1000.0, ch_rate)
        assert p.acquire(1, "UPAUSED") is not None
        p.rate_limited(1, "UPAUSED", retry_after=3600.0)
        for i in range(10_000):  # one DM each at 5 a second, as a weekly fan-out sends them
            assert p.acquire(1, f"U{i}") is not None
            t.now += 0.2
        assert len(p._channels) < 2 * 1024  # not one limiter for every DM ever sent
        assert p.delay(1, "UPAUSED") > 1000.0  # its pause (an hour) outlived the sweeps
        assert p.delay(1, "U9999") > 0.0  # the latest are kept: still within their second


def test_a_window_waiting_for_its_answer_is_not_let_go() -> None:
    p, t = pacer(1000.0, 1.0)
    started = p.acquire(1, "USLOW")
    assert started is not None
    for i in range(3000):  # a slow answer (30 s): meanwhile many other channels, answered
        at = p.acquire(1, f"U{i}")
        assert at is not None
        p.answered(1, f"U{i}", at)
        t.now += 0.01
    p.answered(1, "USLOW", started)  # counted up to now: its second starts again
    assert p.delay(1, "USLOW") > 0.5
