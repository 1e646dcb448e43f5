"""Where a process's memory is, sampled between two scheduler ticks (``bench/soak.py``):
RSS; pymalloc's arenas and the blocks in use in them; the C heap (glibc's malloc, every
thread's arena) in use, free and in mmap'd chunks; Python's traced memory (tracemalloc, when
on); what the cyclic collector freed; live objects, SQLAlchemy's statement cache and the
per-process caches' entries.

A heap that grows while what is in use stays put is fragmentation or garbage waiting for a
collection, not a leak; what is in use growing is something kept.
"""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
import tempfile
import threading
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.calendar import workdays, workweek
from app.services.scheduling import schedules
from scheduler import ladder

# The per-process caches the tick fills (each bounded): their entries, each minute.
CACHES: dict[str, Callable[[], int]] = {
    "step_times": lambda: len(ladder.STEPS),
    "schedules": lambda: schedules._parse_text.cache_info().currsize,
    "zones": lambda: schedules.zone.cache_info().currsize,
    "holidays": lambda: workdays._country.cache_info().currsize,
    "calendars": lambda: workweek._calendar.cache_info().currsize}


class Sampler:
    """Takes a replica's figures once a tick's pass has returned (in the tick's thread): what
    the pass held is gone by then, what is left is what the process keeps."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        gc.callbacks.append(_collected)
        self.due = threading.Event()
        self.samples: list[dict[str, float]] = []
        self.snapshots: list[tracemalloc.Snapshot] = []  # the first minute's, the end's

    def after(self, once: Callable[[float], Any]) -> Callable[[float], Any]:
        def run(budget: float) -> Any:
            result = once(budget)
            if self.due.is_set():
                self.due.clear()
                self.take()
            return result
        return run

    def take(self) -> None:
        self.samples.append(memory(self.engine))
        if tracemalloc.is_tracing():
            snap = tracemalloc.take_snapshot()
            if os.environ.get("SOAK_TRACE_DUMP"):
                self.snapshots.append(snap)
            else:
                self.snapshots[1:] = [snap]


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _pymalloc() -> tuple[int, int]:
    """(bytes of pymalloc's arenas, bytes of its blocks in use), from its own statistics."""
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read().decode()
    found = dict(re.findall(r"^# (arenas allocated current|bytes in allocated blocks)\s*= "
                            r"\s*([\d,]+)", text, re.M))
    arena = 1 << 20 if sys.version_info >= (3, 10) else 1 << 18
    return (int(found.get("arenas allocated current", "0").replace(",", "")) * arena,
            int(found.get("bytes in allocated blocks", "0").replace(",", "")))


_GC: Counter[str] = Counter()  # since the last sample: objects the cyclic collector freed,
# and its full collections


def _collected(phase: str, info: dict[str, int]) -> None:
    if phase == "stop":
        _GC["freed"] += info["collected"]
        _GC["full"] += info["generation"] == 2


def memory(engine: Engine) -> dict[str, float]:
    """This process's memory now, in MB where it is memory: RSS; pymalloc's arenas and the
    blocks in use in them; the C heap (glibc's malloc, every thread's arena) in use, free
    and in mmap'd chunks; Python's traced memory (tracemalloc, when on); and counts: live
    Python objects, SQLAlchemy's statement cache, the entries of the per-process caches."""
    mb = 1 / (1 << 20)
    out: dict[str, float] = {"rss": rss_kb(os.getpid()) / 1024}
    arenas, used = _pymalloc()
    out |= {"py_arenas": arenas * mb, "py_used": used * mb}
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        out |= {"c_used": info.uordblks * mb, "c_free": info.fordblks * mb,
                "c_mmap": info.hblkhd * mb}
    except (OSError, AttributeError):  # not glibc
        pass
    if tracemalloc.is_tracing():
        out["traced"] = tracemalloc.get_traced_memory()[0] * mb
    out |= {"gc_freed": _GC.pop("freed", 0), "gc_full": _GC.pop("full", 0)}
    out |= {"objects": len(gc.get_objects()),
            "statements": len(getattr(engine, "_compiled_cache", ()))}
    for name, size in CACHES.items():
        out[name] = size()
    return out


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
