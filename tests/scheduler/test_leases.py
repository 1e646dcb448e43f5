"""Work leases: one process computes and sends for a workspace at a time, live processes split
the workspaces fairly, a stopped or killed process's share is taken over, and a handover
neither bursts the rate nor doubles a message (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import unit_of_work
from app.models import Workspace
from app.models.scheduling import WorkLease
from scheduler.jobs import tick
from scheduler.leases import HANDOVER, MARGIN, STOP_BEFORE, WorkLeases, lease_seconds
from scheduler.pacing import Pacer
from tests.fakeslack import FakeSlack
from tests.fixtures.scheduler import Clock, clients, make_settings, posts

ADA_DUE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Ada's Monday 10:00 in Berlin
BEFORE = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
INTERVAL = 45.0


class Wall:
    """A real-time clock the test moves by hand (leases run on real time, not the tick's)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def leases(factory: sessionmaker[Session], me: str, wall: Wall) -> WorkLeases:
    return WorkLeases(factory, me, ttl_seconds=lease_seconds(INTERVAL), clock=wall)


def add_workspaces(factory: sessionmaker[Session], n: int) -> None:
    with unit_of_work(factory) as s:
        s.add_all(Workspace(name=f"ws{i}", created_at=BEFORE, holiday_dates=[])
                  for i in range(n))


def run(clock: Clock, work: WorkLeases, at: datetime) -> tuple[Counter[str], Counter[str], int]:
    result = tick(clock.factory, clock.settings, at, client_for=clock.client_for,
                  pacer=clock.pacer, worker_id=work.me, threads=1, budget_seconds=30,
                  leases=work)
    return result.enqueued, result.delivered, result.elsewhere


def test_only_the_holder_computes_and_sends(clock: Clock, fake_slack: FakeSlack) -> None:
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    assert len(a.acquire()) == 1
    enqueued, delivered, elsewhere = run(clock, b, ADA_DUE)  # b's pass: not its workspace
    assert (sum(enqueued.values()), sum(delivered.values()), elsewhere) == (0, 0, 1)
    assert posts(fake_slack) == []
    enqueued, delivered, elsewhere = run(clock, a, ADA_DUE)
    assert enqueued["prompt:pending"] >= 1 and delivered["sent:prompt"] >= 1 and not elsewhere
    assert len(posts(fake_slack, "U0ADA")) == 1


def test_an_expired_lease_is_taken_over(clock: Clock) -> None:
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    (ws,) = a.acquire()
    wall.advance(INTERVAL + MARGIN - 1)
    assert b.acquire() == frozenset()  # still a's
    wall.advance(2)
    assert b.acquire() == {ws}  # a did not renew: b takes it
    assert a.acquire() == frozenset()  # and a, back, does not take it back


def test_four_workspaces_split_two_and_two(clock: Clock) -> None:
    add_workspaces(clock.factory, 3)
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    assert len(a.acquire()) == 4  # alone: everything
    assert b.acquire() == frozenset()  # all held; b's heartbeat now counts
    wall.advance(INTERVAL)
    kept = a.acquire()
    assert len(kept) == 2  # a keeps its share and releases the rest
    wall.advance(0.5)
    taken = b.acquire()
    assert len(taken) == 2 and not kept & taken
    for _ in range(3):  # and it stays that way
        wall.advance(INTERVAL)
        assert a.acquire() == kept and b.acquire() == taken


def test_a_killed_workers_share_is_picked_up_at_the_next_pass(clock: Clock) -> None:
    add_workspaces(clock.factory, 3)
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    a.acquire()
    b.acquire()
    wall.advance(1)
    a.acquire()  # a's last renewal: it is killed right after
    last = wall.now
    wall.advance(1)
    assert len(b.acquire()) == 2
    expires = last + timedelta(seconds=lease_seconds(INTERVAL))
    while wall.now + timedelta(seconds=INTERVAL) < expires:  # b's passes, every interval
        wall.advance(INTERVAL)
        assert len(b.acquire()) == 2  # a's leases still run
    wall.advance(INTERVAL)  # b's first pass after they ran out takes them all
    assert len(b.acquire()) == 4
    assert wall.now - expires < timedelta(seconds=INTERVAL)


def test_a_stopping_worker_hands_over_at_once_without_a_burst(clock: Clock) -> None:
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    (ws,) = a.acquire()
    a.close()
    wall.advance(0.25)
    assert b.acquire() == {ws}
    # a may have sent during its last second: b's first send waits for the rest of it.
    assert abs(b.holds[ws] - (HANDOVER - 0.25)) < 1e-6
    pacer = Pacer(100.0, 100.0)
    pacer.hold(ws, b.holds[ws])
    assert pacer.delay(ws, "U0ADA") > 0.5


def test_no_send_in_the_last_seconds_of_a_lease_and_none_twice(
        clock: Clock, fake_slack: FakeSlack) -> None:
    wall = Wall()
    a, b = leases(clock.factory, "a", wall), leases(clock.factory, "b", wall)
    a.acquire()
    run(clock, a, BEFORE)
    sent_before = len(posts(fake_slack))
    # a's lease is nearly over when its next pass's sends come: it sends nothing and puts the
    # rows back; b, once the lease has run out, takes the workspace and sends each one once.
    wall.advance(INTERVAL)
    a.acquire()
    wall.advance(INTERVAL + MARGIN - STOP_BEFORE + 0.5)
    _, delivered, _ = run_without_renewal(clock, a, ADA_DUE)
    assert delivered["sent:prompt"] == 0 and len(posts(fake_slack)) == sent_before
    wall.advance(STOP_BEFORE)
    _, delivered, _ = run(clock, b, ADA_DUE + timedelta(seconds=30))
    assert delivered["sent:prompt"] >= 1
    per_target = Counter(p["channel"] for p in posts(fake_slack))
    assert per_target and max(per_target.values()) == 1


def run_without_renewal(clock: Clock, work: WorkLeases,
                        at: datetime) -> tuple[Counter[str], Counter[str], int]:
    """A pass of a process whose lease is about to end (its pass started long ago: the
    lease was not renewed since)."""
    work.acquire = lambda: frozenset(work.ids())  # type: ignore[method-assign]
    work.renew_every = 1e9
    return run(clock, work, at)


def test_a_one_shot_tick_releases_its_leases(clock: Clock) -> None:
    clock.tick(BEFORE)
    wall = Wall()
    wall.now = datetime.now(UTC) + timedelta(seconds=HANDOVER)
    with unit_of_work(clock.factory) as s:
        owners = list(s.execute(select(WorkLease.lease_owner, WorkLease.lease_until)))
    assert owners and all(until is not None and until <= datetime.now(UTC)
                          for _, until in owners)
    assert len(leases(clock.factory, "replica", wall).acquire()) == 1


def test_two_loops_on_one_workspace_never_send_twice(
        clock: Clock, fake_slack: FakeSlack) -> None:
    """Passes of two processes interleaved, with the lease changing hands between them."""
    wall = Wall()
    settings = make_settings(fake_slack)
    workers = [leases(clock.factory, name, wall) for name in ("a", "b")]
    at = BEFORE
    for step in range(12):
        work = workers[step % 2]
        tick(clock.factory, settings, at, client_for=clients(settings), pacer=Pacer(1e3, 1e3),
             worker_id=work.me, threads=1, budget_seconds=30, leases=work)
        at += timedelta(minutes=20)
        wall.advance(INTERVAL if step % 3 else INTERVAL + MARGIN + 1)
    per_target = Counter((p["channel"], p.get("metadata", {}).get("event_payload", {})
                          .get("delivery")) for p in posts(fake_slack))
    assert per_target and max(per_target.values()) == 1
