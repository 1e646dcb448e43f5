"""A key result's plan as people edit it: a milestone's due date and phased targets.

Phased targets are typed one per line, ``YYYY-MM-DD value`` (``2026-03-01 200``; a colon or
``=`` between them is fine). The rules match the import file's (see
``app.services.data.imports.kr_rules``): ``due`` only for milestones, targets only for
increase and decrease KRs, dates inside the cycle and increasing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Any

from app.domain import KRType, PhasedTarget
from app.services.errors import InvalidValue

MAX_TARGETS = 24
_LINE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*[:=]?\s*(-?\d[\d,]*(?:\.\d+)?)\s*$")


def targets_text(targets: Sequence[PhasedTarget]) -> str:
    """Targets as the edit modal shows them, one ``YYYY-MM-DD value`` per line."""
    return "\n".join(f"{t.on.isoformat()} {t.value:g}" for t in targets)


def parse_targets(text: str | None, field: str = "targets") -> list[PhasedTarget]:
    """Lines of ``YYYY-MM-DD value``; blank lines are skipped. Raises InvalidValue."""
    out: list[PhasedTarget] = []
    for n, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            raise InvalidValue(f"line {n}: write a date and a value, e.g. 2026-03-01 200",
                               field=field)
        try:
            on = date.fromisoformat(m.group(1))
        except ValueError:
            raise InvalidValue(f"line {n}: {m.group(1)} is not a date", field=field) from None
        out.append(PhasedTarget(on, float(m.group(2).replace(",", ""))))
    if len(out) > MAX_TARGETS:
        raise InvalidValue(f"at most {MAX_TARGETS} phased targets", field=field)
    return out


Stored = tuple[date | None, list[dict[str, Any]] | None]


def check_plan(kr_type: KRType, due: date | None, targets: Sequence[PhasedTarget], *,
               cycle: str, start: date, end: date) -> Stored:
    """Validate a plan against the KR's type and cycle; returns the columns to store
    (``due_date``, ``targets``)."""
    span = f"{cycle} ({start.isoformat()} to {end.isoformat()})"
    if due is not None and kr_type != KRType.MILESTONE:
        raise InvalidValue("only milestones have a due date", field="due")
    if due is not None and not start <= due <= end:
        raise InvalidValue(f"the due date is outside {span}", field="due")
    if targets and not kr_type.needs_start_and_target:
        raise InvalidValue("phased targets need an increase or decrease KR", field="targets")
    for before, after in pairwise(targets):
        if after.on <= before.on:
            raise InvalidValue(f"{after.on.isoformat()} must come after "
                               f"{before.on.isoformat()}", field="targets")
    for t in targets:
        if not start <= t.on <= end:
            raise InvalidValue(f"{t.on.isoformat()} is outside {span}", field="targets")
    stored = [{"on": t.on.isoformat(), "value": t.value} for t in targets] or None
    return due, stored
