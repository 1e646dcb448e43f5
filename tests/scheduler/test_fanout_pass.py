"""A pass during a fan-out: the rows already due keep going out while it enqueues."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, cast

from scheduler.delivery import Deliverer
from scheduler.jobs import enqueue_and_deliver


class Sender:
    """Stands in for a Deliverer: records its runs, each sending one row."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.counts: Counter[str] = Counter()
        self.more = False
        self.runs: list[float] = []
        self.sent = threading.Event()

    def run(self, budget: float) -> Counter[str]:
        self.runs.append(budget)
        self.counts["sent:prompt"] += 1
        self.sent.set()
        return self.counts


def test_rows_already_due_go_out_while_the_pass_enqueues() -> None:
    sender = Sender(threads=4)
    seen: list[bool] = []

    def enqueue_due() -> Counter[str]:
        seen.append(sender.sent.wait(5))  # sequential, this would wait in vain
        return Counter({"prompt:pending": 3})

    enqueued, delivered, more = enqueue_and_deliver(
        enqueue_due, cast(Deliverer, cast(Any, sender)), 30.0)
    assert seen == [True]
    assert enqueued == Counter({"prompt:pending": 3})
    # After the enqueue, one more run picks up what it inserted, within what is left.
    assert len(sender.runs) == 2 and sender.runs[1] <= 30.0
    assert delivered["sent:prompt"] == 2 and not more


def test_one_sender_thread_enqueues_first_then_delivers() -> None:
    sender = Sender(threads=1)
    order: list[str] = []

    def enqueue_due() -> Counter[str]:
        order.append(f"enqueue after {len(sender.runs)} run(s)")
        return Counter()

    enqueue_and_deliver(enqueue_due, cast(Deliverer, cast(Any, sender)), 30.0)
    assert order == ["enqueue after 0 run(s)"] and sender.runs == [30.0]


def test_without_a_deliverer_it_only_enqueues() -> None:
    assert enqueue_and_deliver(lambda: Counter({"digest:pending": 1}), None, 30.0) == (
        Counter({"digest:pending": 1}), Counter(), False)
