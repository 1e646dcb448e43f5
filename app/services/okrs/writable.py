"""The one rule for writes on a cycle's OKRs: a ``closed`` cycle is read-only.

Check-ins (``checkins.record``), objective and KR edits (``okrs.editing``), target and weight
adjustments (``okrs.adjustments``) and issue links (``links.attach``) call these guards
before writing anything; each entrypoint turns :class:`CycleClosed` into its own refusal
(a CLI error, a Slack reply, HTTP 409). A cycle in ``review`` stays writable: late
check-ins are welcome while scores are agreed. Tracker webhooks are the one exception that
still records something: see ``links.state`` (the link's state is kept, the score is not
moved).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.domain import CyclePhase
from app.models import Cycle, KeyResult, Objective
from app.services.errors import CycleClosed


def is_closed(cycle: Cycle | None) -> bool:
    return cycle is not None and cycle.phase == CyclePhase.CLOSED.value


def require_open(cycle: Cycle | None) -> None:
    """Raise :class:`CycleClosed` when ``cycle`` is closed."""
    if cycle is not None and cycle.phase == CyclePhase.CLOSED.value:
        raise CycleClosed(cycle.name)


def require_open_objective(session: Session, objective: Objective) -> None:
    require_open(session.get(Cycle, objective.cycle_id))


def require_open_kr(session: Session, kr: KeyResult) -> None:
    require_open_objective(session, kr.objective)


def require_open_krs(session: Session, krs: Iterable[KeyResult]) -> None:
    """:func:`require_open_kr` for many KRs with one query for their cycles (the session's
    identity map holds rows only while referenced: one ``get`` per KR re-read the cycle).
    Cycles this transaction read already (and still references) are not read again."""
    ids = {kr.objective.cycle_id for kr in krs}
    if not ids:
        return
    known = [session.identity_map.get(identity_key(Cycle, i)) for i in sorted(ids)]
    if all(isinstance(c, Cycle) for c in known):
        for cycle in known:
            require_open(cycle)
        return
    for cycle in session.scalars(select(Cycle).where(Cycle.id.in_(ids)).order_by(Cycle.id)):
        require_open(cycle)
