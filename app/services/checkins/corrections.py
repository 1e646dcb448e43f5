"""Correcting a check-in: Edit (a new answer) and Undo (withdraw it), both append-only.

A correction is a new row naming the entry it supersedes (``checkins.supersedes_id``),
written by the one check-in writer (``record.record`` with a :class:`Correction`); the
superseded row stays in history. An undo row has ``undone=True`` and carries what was in force
before the withdrawn check-in (its value, score and status, or none). A chain (a check-in and
its corrections) is corrected at its head, the row nothing supersedes yet, so a button from
an older summary still finds the current entry.

Rules: only the check-in's author (or an OKR admin) may correct it; only the latest entry in
force on its KR can be corrected (a later check-in already replaced it); Undo is open for
``UNDO_WINDOW`` after the check-in. Tapping Undo twice records once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinEntry, CheckinSource, Correction, KRType, KRView
from app.models import Checkin, Cycle, KeyResult, Objective, Workspace
from app.services.access import Principal
from app.services.checkins import forms
from app.services.checkins import record as writer
from app.services.errors import InvalidValue, NotAllowed, NotFound
from app.services.links import attach as links
from app.services.links.refs import kr_score
from app.services.okrs import cycles as cycles_service
from app.services.okrs import report as okrs

UNDO_WINDOW = timedelta(hours=24)
RECENT = 5


@dataclass(frozen=True, slots=True)
class Chain:
    """A check-in's chain: the first entry, the current head, and the KR it is on."""

    root: Checkin
    head: Checkin
    kr: KeyResult


@dataclass(frozen=True, slots=True)
class EditForm:
    """What the Edit modal opens with: the entry in force and its KR as people see it."""

    entry: CheckinEntry
    kr: KRView


def _load(session: Session, workspace_id: int, checkin_id: int) -> Chain:
    row = session.scalars(select(Checkin).where(Checkin.workspace_id == workspace_id,
                                                Checkin.id == checkin_id)).first()
    if row is None:
        raise NotFound("that check-in does not exist")
    root = row
    while root.supersedes_id is not None:
        earlier = session.get(Checkin, root.supersedes_id)
        if earlier is None or earlier.workspace_id != workspace_id:
            break
        root = earlier
    head = row
    while True:
        nxt = session.scalars(select(Checkin).where(
            Checkin.workspace_id == workspace_id, Checkin.supersedes_id == head.id)
            .order_by(Checkin.at.desc(), Checkin.id.desc())).first()
        if nxt is None:
            break
        head = nxt
    kr = session.get(KeyResult, row.kr_id)
    if kr is None or kr.workspace_id != workspace_id:
        raise NotFound("that check-in does not exist")
    return Chain(root=root, head=head, kr=kr)


def _authorize(chain: Chain, actor: Principal | None) -> None:
    """Only the author (of the check-in or of its latest correction) or an admin; None is a
    trusted operator (the CLI)."""
    if actor is None or actor.is_admin:
        return
    if actor.id not in {chain.root.author_id, chain.head.author_id} - {None}:
        raise NotAllowed("only the person who checked in (or an OKR admin) can change "
                         "this check-in")


def _require_latest(session: Session, chain: Chain) -> list[Checkin]:
    kept = writer.in_force(session, chain.kr)
    if chain.head.undone:
        raise InvalidValue("this check-in was undone: check in again instead", field="kr")
    if not kept or kept[-1].id != chain.head.id:
        raise InvalidValue("a later check-in on this key result replaced this one: "
                           "check in again instead", field="kr")
    return kept


def _entry(chain: Chain, row: Checkin, now: datetime) -> CheckinEntry:
    return CheckinEntry(
        id=row.id, kr_key=chain.kr.key, kr_title=chain.kr.title, at=row.at, value=row.value,
        score=row.score, status=row.status, confidence=row.confidence, note=row.note,
        blockers=row.blockers, undone=row.undone,
        can_undo=not row.undone and now - chain.root.at <= UNDO_WINDOW)


def held(*, session: Session, workspace_id: int, checkin_id: int,
         actor: Principal | None, now: datetime) -> CheckinEntry:
    """The entry in force for this check-in (its chain's head), for whoever may change it."""
    chain = _load(session, workspace_id, checkin_id)
    _authorize(chain, actor)
    return _entry(chain, chain.head, now)


def edit_form(*, session: Session, workspace_id: int, checkin_id: int, actor: Principal,
              now: datetime, settings: ScoringSettings) -> EditForm:
    """What the Edit modal opens with (raises NotFound, NotAllowed, InvalidValue)."""
    chain = _load(session, workspace_id, checkin_id)
    _authorize(chain, actor)
    _require_latest(session, chain)
    objective = session.get(Objective, chain.kr.objective_id)
    cycle = session.get(Cycle, objective.cycle_id) if objective else None
    if objective is None or cycle is None:
        raise NotFound("that check-in does not exist")
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("that check-in does not exist")
    report = okrs.cycle_report(session=session, workspace_id=workspace_id, cycle=cycle,
                               today=cycles_service.org_today(workspace, now), now=now,
                               settings=settings)
    view = report.key_result(chain.kr.key)
    if view is None:
        raise NotFound("that key result is not in its cycle any more")
    return EditForm(entry=_entry(chain, chain.head, now), kr=view)


def correct(*, session: Session, workspace_id: int, checkin_id: int, answer: CheckinAnswer,
            actor: Principal | None, actor_label: str, source: CheckinSource, now: datetime,
            idempotency_key: str | None = None, typed: bool = False) -> CheckinEntry:
    """Record ``answer`` as the correction of this check-in; returns the new entry.

    ``typed`` answers come from the modal (``value_text``) and are read against the KR's type
    first. Raises NotFound, NotAllowed or InvalidValue (with ``field``); nothing is stored then.
    """
    chain = _load(session, workspace_id, checkin_id)
    _authorize(chain, actor)
    if idempotency_key is not None:
        done = session.scalars(select(Checkin).where(
            Checkin.workspace_id == workspace_id,
            Checkin.idempotency_key == idempotency_key)).first()
        if done is not None:
            return _entry(chain, done, now)
    _require_latest(session, chain)
    data = replace(answer, kr_key=chain.kr.key)
    if typed:
        data = forms.measured(chain.kr, data)
    row = writer.record(session=session, workspace_id=workspace_id, kr=chain.kr, data=data,
                        author_id=actor.id if actor is not None else chain.head.author_id,
                        actor_label=actor_label, source=source, now=now,
                        idempotency_key=idempotency_key,
                        correction=Correction(supersedes_id=chain.head.id))
    return _entry(chain, row, now)


def undo(*, session: Session, workspace_id: int, checkin_id: int, actor: Principal | None,
         actor_label: str, source: CheckinSource, now: datetime) -> tuple[CheckinEntry, bool]:
    """Withdraw this check-in (with its corrections): the KR goes back to what was in force
    before it. Returns (the undo entry, whether it was recorded now); undoing an undone
    check-in again records nothing."""
    chain = _load(session, workspace_id, checkin_id)
    _authorize(chain, actor)
    if chain.head.undone:
        return _entry(chain, chain.head, now), False
    if now - chain.root.at > UNDO_WINDOW:
        raise InvalidValue("Undo is only possible within 24 hours of the check-in: use Edit "
                           "or check in again", field="kr")
    kept = _require_latest(session, chain)
    before = [r for r in kept if r.id != chain.head.id]
    prev = before[-1] if before else None
    status = next((r.status for r in reversed(before) if r.status), None)
    correction = Correction(supersedes_id=chain.head.id, undo=True,
                            value=prev.value if prev else None,
                            score=prev.score if prev else None, status=status)
    row = writer.record(session=session, workspace_id=workspace_id, kr=chain.kr,
                        data=CheckinAnswer(kr_key=chain.kr.key),
                        author_id=actor.id if actor is not None else chain.head.author_id,
                        actor_label=actor_label, source=source, now=now,
                        idempotency_key=f"undo:{chain.head.id}", correction=correction)
    # A used key (a concurrent second tap) hands back the first tap's row.
    return _entry(chain, row, now), row.supersedes_id == chain.head.id


def latest_for(*, session: Session, workspace_id: int, kr: KeyResult,
               author_id: int | None) -> int:
    """The id of the latest entry in force on ``kr`` (by ``author_id`` when given)."""
    kept = writer.in_force(session, kr)
    if not kept:
        raise NotFound(f"there is no check-in on {kr.key} to correct")
    if author_id is not None and kept[-1].author_id != author_id:
        mine = [r for r in kept if r.author_id == author_id]
        if not mine:
            raise NotFound(f"that person has no check-in on {kr.key} to correct")
        return mine[-1].id  # refused by the latest-entry rule, with its message
    return kept[-1].id


def summary(*, session: Session, workspace_id: int, checkin_ids: Sequence[int],
            now: datetime) -> list[CheckinEntry]:
    """The entries in force for these check-ins (each chain's head), in the given order."""
    chains = _chains(session, workspace_id, list(dict.fromkeys(checkin_ids)))
    out: list[CheckinEntry] = []
    for chain in chains:
        entry = _entry(chain, chain.head, now)
        if entry.score is None and chain.kr.kr_type == KRType.ISSUES.value:
            entry = replace(entry, score=_links_score(session, workspace_id, chain.kr.id))
        out.append(entry)
    return out


def _chains(session: Session, workspace_id: int, ids: list[int]) -> list[Chain]:
    """:func:`_load` for many check-ins (those that exist, in ``ids`` order), with one query
    per step along their chains instead of one per check-in and step."""
    if not ids:
        return []
    rows = {c.id: c for c in session.scalars(select(Checkin).where(
        Checkin.workspace_id == workspace_id, Checkin.id.in_(ids)))}
    roots = dict(rows)
    pending = {i for i, r in roots.items() if r.supersedes_id is not None}
    while pending:
        wanted = {roots[i].supersedes_id for i in pending}
        found = {c.id: c for c in session.scalars(select(Checkin).where(Checkin.id.in_(wanted)))
                 if c.workspace_id == workspace_id}
        step: set[int] = set()
        for i in pending:
            earlier = found.get(roots[i].supersedes_id or 0)
            if earlier is not None:
                roots[i] = earlier
                if earlier.supersedes_id is not None:
                    step.add(i)
        pending = step
    heads = dict(rows)
    pending = set(heads)
    while pending:
        latest: dict[int, Checkin] = {}  # superseded id -> its latest correction
        for c in session.scalars(select(Checkin).where(
                Checkin.workspace_id == workspace_id,
                Checkin.supersedes_id.in_({heads[i].id for i in pending}))):
            best = latest.get(c.supersedes_id or 0)
            if best is None or (c.at, c.id) > (best.at, best.id):
                latest[c.supersedes_id or 0] = c
        step = {i for i in pending if heads[i].id in latest}
        for i in step:
            heads[i] = latest[heads[i].id]
        pending = step
    krs = {k.id: k for k in session.scalars(select(KeyResult).where(
        KeyResult.workspace_id == workspace_id,
        KeyResult.id.in_({r.kr_id for r in rows.values()})))}
    return [Chain(root=roots[i], head=heads[i], kr=krs[rows[i].kr_id])
            for i in ids if i in rows and rows[i].kr_id in krs]


def _links_score(session: Session, workspace_id: int, kr_id: int) -> float | None:
    """An issue-linked KR's score: its check-ins carry none, its links decide it."""
    found = links.for_kr(session=session, workspace_id=workspace_id, kr_id=kr_id)
    return kr_score(found) if found else None


def recent(*, session: Session, workspace_id: int, author_id: int, now: datetime,
           limit: int = RECENT) -> list[CheckinEntry]:
    """Someone's latest check-ins (the head of each chain), newest first, for App Home."""
    rows = session.execute(
        select(Checkin, KeyResult.key, KeyResult.title)
        .join(KeyResult, KeyResult.id == Checkin.kr_id)
        .where(Checkin.workspace_id == workspace_id, Checkin.author_id == author_id,
               Checkin.at >= now - UNDO_WINDOW * 7)
        .order_by(Checkin.at.desc(), Checkin.id.desc()).limit(limit * 4)).all()
    ids = [c.id for c, _, _ in rows]
    heads = summary(session=session, workspace_id=workspace_id, checkin_ids=ids, now=now)
    seen: set[int] = set()
    out: list[CheckinEntry] = []
    for e in heads:
        if e.id in seen or e.undone:
            continue
        seen.add(e.id)
        out.append(e)
    return out[:limit]


def recorded(*, session: Session, workspace_id: int, key_prefix: str,
             kr_keys: Sequence[str], now: datetime) -> list[CheckinEntry]:
    """The entries in force for the check-ins a form recorded (``forms.submit``'s
    ``key_prefix``), in ``kr_keys`` order: what its summary shows, with Edit and Undo."""
    wanted = [f"{key_prefix}:{k}"[:200] for k in kr_keys]
    ids = dict(session.execute(select(Checkin.idempotency_key, Checkin.id).where(
        Checkin.workspace_id == workspace_id, Checkin.idempotency_key.in_(wanted))).tuples().all())
    return summary(session=session, workspace_id=workspace_id, now=now,
                   checkin_ids=[ids[k] for k in wanted if k in ids])
