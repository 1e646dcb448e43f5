"""Mid-cycle review: changing a KR's target or weight, with a reason, keeping the old value.

The KR row holds the value in force; every change adds a ``kr_revisions`` row (old value, new
value, reason, who, when) and an audit entry, so nothing is lost and digests can mention it.
``okr cycle adjust`` and the edit modal's target and weight both come through here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import KRType, Visibility
from app.models import Cycle, KeyResult, KRRevision, Objective, Person
from app.services import access, audit
from app.services.errors import InvalidValue, NotAllowed
from app.services.okrs.writable import require_open_kr

MAX_REASON = 1000
# Types whose score depends on a target value.
_HAS_TARGET = {KRType.INCREASE, KRType.DECREASE, KRType.ABOVE, KRType.BELOW}


@dataclass(frozen=True, slots=True)
class RevisionView:
    kr_key: str
    kr_title: str
    objective_key: str
    field: str
    old_value: float | None
    new_value: float | None
    reason: str
    author_name: str | None
    at: datetime
    author_slack_id: str | None = None

    def describe(self) -> str:
        """``target changed from 10 to 8: <reason>``."""
        def fmt(v: float | None) -> str:
            return "none" if v is None else f"{v:g}"
        return f"{self.field} changed from {fmt(self.old_value)} to {fmt(self.new_value)}: " \
               f"{self.reason}"


def may_adjust(session: Session, kr: KeyResult, person: Person | None, *,
               as_admin: bool) -> bool:
    """KR owner, objective owner, a lead of the objective's team (or above), or an admin."""
    if as_admin:
        return True
    if person is None:
        return False
    if person.id in (kr.owner_id, kr.objective.owner_id):
        return True
    chain = access.leads_by_objective(session, kr.workspace_id, [kr.objective_id])
    return person.id in chain.get(kr.objective_id, ())


Change = tuple[str, float | None, float | None]  # (target | weight, old value, new value)


def adjust_kr(
    *,
    session: Session,
    workspace_id: int,
    kr: KeyResult,
    person: Person | None,
    reason: str,
    now: datetime,
    actor_label: str | None = None,
    target: float | None = None,
    weight: float | None = None,
    as_admin: bool = False,
) -> list[KRRevision]:
    """Change a KR's target and/or weight. Returns the revisions written (none if unchanged).

    ``person`` is None for the operator (the CLI), who acts as an admin.
    """
    text = _guard(session, workspace_id, kr, person, reason, as_admin=as_admin)
    if target is None and weight is None:
        raise InvalidValue("give a new target or a new weight", field="target")
    return _write(session, workspace_id, kr, person, text, _changes(kr, target, weight), now,
                  actor_label)


def revise(*, session: Session, workspace_id: int, kr: KeyResult, person: Person | None,
           reason: str | None, changes: Sequence[Change], now: datetime,
           actor_label: str | None = None, as_admin: bool = False) -> list[KRRevision]:
    """Record target and weight changes checked by the caller (the edit modal, whose form
    validates the values) as revisions, under the same rules as :func:`adjust_kr`: who may,
    an open cycle, a reason."""
    text = _guard(session, workspace_id, kr, person, reason or "", as_admin=as_admin)
    return _write(session, workspace_id, kr, person, text,
                  [c for c in changes if c[1] != c[2]], now, actor_label)


def _guard(session: Session, workspace_id: int, kr: KeyResult, person: Person | None,
           reason: str, *, as_admin: bool) -> str:
    """The checks every target or weight change passes; returns the cleaned reason."""
    if kr.workspace_id != workspace_id:
        raise InvalidValue("unknown key result", field="kr")
    if not may_adjust(session, kr, person, as_admin=as_admin):
        raise NotAllowed(f"only {kr.key}'s owner, the objective's owner or a lead may change it")
    require_open_kr(session, kr)
    return _checked_reason(reason)


def _write(session: Session, workspace_id: int, kr: KeyResult, person: Person | None,
           text: str, changes: Sequence[Change], now: datetime,
           actor_label: str | None) -> list[KRRevision]:
    rows = []
    for name, old, new in changes:
        row = KRRevision(workspace_id=workspace_id, kr_id=kr.id, cycle_id=kr.objective.cycle_id,
                         author_id=person.id if person else None, at=now, field=name,
                         old_value=old, new_value=new, reason=text)
        session.add(row)
        rows.append(row)
        setattr(kr, "target_value" if name == "target" else "weight", new)
    if rows:
        kr.updated_at = now
        label = actor_label or (f"slack:{person.slack_id}" if person else "cli")
        audit.record(session=session, workspace_id=workspace_id,
                     actor_id=person.id if person else None, actor_label=label,
                     action="kr.adjust",
                     subject_type="key_result", subject_key=kr.key, now=now,
                     before={n: old for n, old, _ in changes},
                     after={**{n: new for n, _, new in changes}, "reason": text})
        session.flush()
    return rows


def _checked_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidValue("say why the key result changes", field="reason")
    if len(text) > MAX_REASON:
        raise InvalidValue(f"keep the reason under {MAX_REASON} characters", field="reason")
    return text


def _changes(kr: KeyResult, target: float | None, weight: float | None) -> list[Change]:
    """``(field, old, new)`` for each value that changes; bad values raise ``InvalidValue``."""
    changes: list[Change] = []
    if target is not None:
        if KRType(kr.kr_type) not in _HAS_TARGET:
            raise InvalidValue(f"a {kr.kr_type} key result has no target to change",
                               field="target")
        if not math.isfinite(target) or abs(target) > 1e15:
            raise InvalidValue("that is not a usable number", field="target")
        if KRType(kr.kr_type) in (KRType.INCREASE, KRType.DECREASE) \
                and kr.start_value is not None and target == kr.start_value:
            raise InvalidValue("the target equals the start value", field="target")
        if kr.target_value != target:
            changes.append(("target", kr.target_value, target))
    if weight is not None:
        if not math.isfinite(weight) or not 0 < weight <= 1000:
            raise InvalidValue("a weight is a positive number (up to 1000)", field="weight")
        if kr.weight != weight:
            changes.append(("weight", kr.weight, weight))
    return changes


def revisions(
    *, session: Session, workspace_id: int, cycle: Cycle, since: datetime | None = None,
    kr_keys: Collection[str] | None = None, team_id: int | None = None,
    public_only: bool = False,
) -> list[RevisionView]:
    """Adjustments made in a cycle (optionally since an instant, for one team's objectives,
    leaving out private ones), oldest first."""
    query = (
        select(KRRevision, KeyResult.key, KeyResult.title, Objective.key, Person.name,
               Person.slack_id)
        .join(KeyResult, KeyResult.id == KRRevision.kr_id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .outerjoin(Person, Person.id == KRRevision.author_id)
        .where(KRRevision.workspace_id == workspace_id, KRRevision.cycle_id == cycle.id)
        .order_by(KRRevision.at, KRRevision.id)
    )
    if since is not None:
        query = query.where(KRRevision.at > since)
    if team_id is not None:
        query = query.where(Objective.team_id == team_id)
    if public_only:
        query = query.where(Objective.visibility != Visibility.PRIVATE.value)
    out = []
    for rev, key, title, okey, author, author_sid in session.execute(query):
        if kr_keys is not None and key not in kr_keys:
            continue
        out.append(RevisionView(kr_key=key, kr_title=title, objective_key=okey, field=rev.field,
                                old_value=rev.old_value, new_value=rev.new_value,
                                reason=rev.reason, author_name=author, at=rev.at,
                                author_slack_id=author_sid))
    return out
