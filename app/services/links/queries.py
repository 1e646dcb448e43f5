"""Saved searches as key results: an ``issues`` KR that follows a label, a milestone, a JQL
query or a Linear project instead of (or besides) a fixed list of links.

A KR has at most one search (:class:`~app.models.KRQuery`). Its items are ordinary
:class:`~app.models.IssueLink` rows marked with the search's ``query_id``, so webhooks,
reconciliation, deletions and scoring treat them like any link. Membership moves two ways:

* :func:`follow`: a webhook's item, whose labels and milestone the payload carries, enters
  the searches of that workspace it now matches and leaves those it no longer matches;
* :func:`reconcile`: the search was run over the tracker's API (:mod:`.query_sync`) and the
  KR's items become what it found.

An item that leaves keeps its row with ``left_at`` set (a trace; it no longer counts); it
comes back if it matches again. A link a person made (``query_id`` NULL, never left) is
never touched by a search. A KR of a closed cycle keeps its items as they were. Every change
that moves a KR's score appends a check-in with ``source=issues`` saying why, and the
membership change itself is audited (actor ``webhook:<provider>`` or ``sync``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CheckinSource, CyclePhase, KRType
from app.models import Checkin, Cycle, IssueLink, KeyResult, KRQuery, Objective, Workspace
from app.services import audit
from app.services.errors import InvalidValue, NotFound
from app.services.links.query_specs import QuerySpec, check_host, stored
from app.services.links.refs import (
    MAX_NOTE,
    ItemState,
    counts_as_closed,
    item_filter,
    kr_score,
    short_ref,
    stored_project,
)
from app.services.links.urls import IssueRef
from app.services.okrs.writable import require_open_kr

# The trackers whose items a search may bring in (each has a searcher in query_sync).
PROVIDERS = ("gitlab", "github", "jira", "linear")


def _item_ref(item: ItemState) -> IssueRef:
    """The link an item a search found becomes, as a hand-made link to it would be."""
    return IssueRef(item.provider, item.host, item.project, item.kind, item.number)


@dataclass
class Moved:
    """What one membership change did to one KR."""

    added: list[str] = field(default_factory=list)  # short refs
    left: list[str] = field(default_factory=list)
    checkins: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.left)


def for_kr(*, session: Session, workspace_id: int, kr_id: int) -> KRQuery | None:
    return session.scalars(select(KRQuery).where(
        KRQuery.workspace_id == workspace_id, KRQuery.kr_id == kr_id)).first()


def specs_by_kr(*, session: Session, workspace_id: int,
                kr_ids: Iterable[int] | None = None) -> dict[int, QuerySpec]:
    """The searches of a workspace's KRs (or of some of them), by KR id."""
    query = select(KRQuery.kr_id, KRQuery.spec).where(KRQuery.workspace_id == workspace_id)
    if kr_ids is not None:
        query = query.where(KRQuery.kr_id.in_(list(kr_ids)))
    return {kr_id: stored(spec) for kr_id, spec in session.execute(query)}


def set_query(*, session: Session, workspace_id: int, kr: KeyResult, spec: QuerySpec | None,
              now: datetime, actor_label: str, gitlab_hosts: Iterable[str],
              actor_id: int | None = None) -> bool:
    """Set (or with None clear) a KR's search; True when something changed. Audited.

    A changed search keeps the KR's items until its next run reconciles them; a cleared one
    marks its items as left (they stop counting, a check-in says so)."""
    if kr.workspace_id != workspace_id:
        raise NotFound("unknown key result")
    row = for_kr(session=session, workspace_id=workspace_id, kr_id=kr.id)
    old = row.spec if row is not None else None
    new = spec.as_dict() if spec is not None else None
    if old == new:
        return False
    require_open_kr(session, kr)
    if spec is not None:
        if KRType(kr.kr_type) != KRType.ISSUES:
            raise InvalidValue(f"{kr.key} is a {kr.kr_type!s} key result; only 'issues' key "
                               "results follow a saved search", field="query")
        try:
            check_host(spec, gitlab_hosts)
        except ValueError as exc:
            raise InvalidValue(str(exc), field="query") from None
    if spec is None and row is not None:
        _clear(session, kr, row, now, actor_label)
    elif spec is not None and row is None:
        session.add(KRQuery(workspace_id=workspace_id, kr_id=kr.id, provider=spec.provider,
                            host=spec.host, project=spec.match_project, spec=spec.as_dict(),
                            created_at=now, updated_at=now))
    elif spec is not None and row is not None:
        row.provider, row.host, row.project = spec.provider, spec.host, spec.match_project
        row.spec, row.updated_at, row.refreshed_at, row.last_error = (
            spec.as_dict(), now, None, None)
    audit.record(session=session, workspace_id=workspace_id, actor_id=actor_id,
                 actor_label=actor_label, action="query.set" if spec else "query.clear",
                 subject_type="key_result", subject_key=kr.key, now=now,
                 before={"query": old}, after={"query": new})
    session.flush()
    return True


def _clear(session: Session, kr: KeyResult, row: KRQuery, now: datetime, label: str) -> None:
    links = _lock_links(session, kr)
    before = kr_score(links)
    left = [lk for lk in links if lk.query_id == row.id and lk.left_at is None]
    for link in left:
        link.left_at = now
    for link in links:
        if link.query_id == row.id:
            link.query_id = None  # a left trace, never mistaken for a link made by hand
    _note(session, kr, before, kr_score(links), "saved search cleared", label, now)
    session.delete(row)


def _lock_links(session: Session, kr: KeyResult) -> list[IssueLink]:
    session.scalars(select(KeyResult.id).where(KeyResult.id == kr.id).with_for_update()).all()
    return list(session.scalars(select(IssueLink).where(
        IssueLink.workspace_id == kr.workspace_id, IssueLink.kr_id == kr.id)
        .order_by(IssueLink.id).execution_options(populate_existing=True)))


def matches(spec: QuerySpec, item: ItemState) -> bool | None:
    """Whether a GitLab/GitHub issue matches a search; None when the item does not say
    enough (its labels, or its milestone when the search names one, are unknown).

    Labels are all required (as the trackers' own ``labels=a,b``); labels and milestone
    titles compare case-insensitively."""
    if spec.provider not in ("gitlab", "github") or item.kind != "issue" or (
            item.provider, item.host.lower(), item.project.lower()) != (
            spec.provider, spec.host, spec.project.lower()):
        return False
    if spec.labels and item.labels is None:
        return None
    if spec.milestone is not None and item.milestone is None:
        return None
    have = {label.casefold() for label in item.labels or ()}
    if any(label.casefold() not in have for label in spec.labels):
        return False
    return spec.milestone is None or (item.milestone or "").casefold() == \
        spec.milestone.casefold()


def _is_item(link: IssueLink, item: ItemState) -> bool:
    return (link.provider == item.provider and link.host == item.host.lower()
            and link.project.lower() == item.project.lower() and link.number == item.number
            and (item.provider == "github" or link.kind == item.kind))


def _hand_made(link: IssueLink) -> bool:
    return link.query_id is None and link.left_at is None


def _ref(item: ItemState) -> str:
    return short_ref(item.provider, item.project, item.kind, item.number)


def _enter(session: Session, kr: KeyResult, query_id: int, links: list[IssueLink],
           item: ItemState, now: datetime) -> bool:
    """The item is in the search: add it, or bring it back; False when nothing changed."""
    link = next((lk for lk in links if _is_item(lk, item)), None)
    if link is not None and (_hand_made(link) or link.left_at is None):
        return False  # a person's link, or already in
    if link is not None and _stale(link, item):
        return False
    if link is None:
        ref = _item_ref(item)
        link = IssueLink(workspace_id=kr.workspace_id, kr_id=kr.id, url=ref.url,
            provider=item.provider, host=item.host.lower(), project=stored_project(ref),
            kind=item.kind, number=item.number, weight=1.0,
            created_at=now)
        session.add(link)
        links.append(link)
    link.query_id, link.left_at = query_id, None
    if item.state in ("open", "closed", "merged", "deleted"):
        link.state, link.closed = item.state, counts_as_closed(item.kind, item.state)
        link.state_updated_at, link.source_updated_at = now, item.updated_at
    link.title = item.title[:300] if item.title else link.title
    return True


def _stale(link: IssueLink, item: ItemState) -> bool:
    return (item.updated_at is not None and link.source_updated_at is not None
            and item.updated_at < link.source_updated_at)


def _leave(link: IssueLink, query_id: int, now: datetime, item: ItemState | None) -> bool:
    if link.query_id != query_id or link.left_at is not None:
        return False
    if item is not None and _stale(link, item):
        return False
    link.left_at = now
    if item is not None and item.updated_at is not None:
        link.source_updated_at = item.updated_at
    return True


def _note(session: Session, kr: KeyResult, before: float, after: float, note: str,
          label: str, now: datetime) -> int:
    """A check-in (source ``issues``) when the score moved, as link changes write them."""
    if math.isclose(before, after, abs_tol=1e-9):
        return 0
    session.add(Checkin(workspace_id=kr.workspace_id, kr_id=kr.id, author_id=None, at=now,
                        score=after, note=note[:MAX_NOTE], source=CheckinSource.ISSUES.value))
    audit.record(session=session, workspace_id=kr.workspace_id, actor_label=label,
                 action="checkin", subject_type="key_result", subject_key=kr.key, now=now,
                 before={"score": round(before, 6)},
                 after={"score": round(after, 6), "note": note[:MAX_NOTE]})
    return 1


def _finish(session: Session, kr: KeyResult, before: float, links: list[IssueLink],
            moved: Moved, label: str, now: datetime) -> Moved:
    if not moved.changed:
        return moved
    parts = [f"{', '.join(moved.added[:5])} added" if moved.added else "",
             f"{', '.join(moved.left[:5])} left" if moved.left else ""]
    if len(moved.added) > 5 or len(moved.left) > 5:
        parts = [f"{len(moved.added)} added" if moved.added else "",
                 f"{len(moved.left)} left" if moved.left else ""]
    note = "saved search: " + ", ".join(p for p in parts if p)
    session.flush()
    moved.checkins = _note(session, kr, before, kr_score(links), note, label, now)
    audit.record(session=session, workspace_id=kr.workspace_id, actor_label=label,
                 action="query.items", subject_type="key_result", subject_key=kr.key, now=now,
                 after={"added": moved.added[:100], "left": moved.left[:100]})
    return moved


def _open_krs(session: Session, workspace_id: int, kr_ids: Iterable[int]) -> list[KeyResult]:
    """Lock (in id order) the KRs that may move: issues KRs outside closed cycles."""
    ids = sorted(set(kr_ids))
    if not ids:
        return []
    return list(session.scalars(
        select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id)
        .join(Cycle, Cycle.id == Objective.cycle_id)
        .where(KeyResult.id.in_(ids), KeyResult.workspace_id == workspace_id,
               KeyResult.kr_type == KRType.ISSUES.value,
               Cycle.phase != CyclePhase.CLOSED.value)
        .order_by(KeyResult.id).with_for_update(of=KeyResult)
        .execution_options(populate_existing=True)))


def follow(*, session: Session, item: ItemState, workspace_id: int, now: datetime,
           actor_label: str) -> Moved:
    """A webhook's item enters or leaves the workspace's searches on its project.

    Locks every KR the item may touch (its searches' KRs and the KRs linking it, in id
    order) before the state is applied, so concurrent deliveries never deadlock."""
    total = Moved()
    if item.provider not in ("gitlab", "github") or item.kind != "issue":
        return total
    rows = session.execute(select(KRQuery.id, KRQuery.kr_id, KRQuery.spec).where(
        KRQuery.workspace_id == workspace_id, KRQuery.provider == item.provider,
        KRQuery.host == item.host.lower(), KRQuery.project == item.project.lower())).all()
    # Decided on the item's own link first: the common event (a state change of an item
    # already in, or never in) locks nothing here and reads no other link.
    candidates = []
    for query_id, kr_id, spec in rows:
        verdict = matches(stored(spec), item)
        if verdict is not None and _may_move(session, workspace_id, kr_id, query_id, item,
                                             verdict):
            candidates.append((query_id, kr_id, verdict))
    if not candidates:
        return total
    linking = select(IssueLink.kr_id).where(*item_filter(item, workspace_id))
    krs = {kr.id: kr for kr in _open_krs(session, workspace_id, [
        *(kr_id for _q, kr_id, _v in candidates), *session.scalars(linking)])}
    for query_id, kr_id, verdict in candidates:
        kr = krs.get(kr_id)
        if kr is None:
            continue
        links = list(session.scalars(select(IssueLink).where(
            IssueLink.workspace_id == workspace_id, IssueLink.kr_id == kr.id)
            .order_by(IssueLink.id).execution_options(populate_existing=True)))
        before = kr_score(links)
        moved = Moved()
        if verdict and _enter(session, kr, query_id, links, item, now):
            moved.added.append(_ref(item))
        elif not verdict and any(_leave(lk, query_id, now, item) for lk in links
                                 if _is_item(lk, item)):
            moved.left.append(_ref(item))
        _finish(session, kr, before, links, moved, actor_label, now)
        total.added += moved.added
        total.left += moved.left
        total.checkins += moved.checkins
    return total


def _may_move(session: Session, workspace_id: int, kr_id: int, query_id: int,
              item: ItemState, verdict: bool) -> bool:
    """Whether the item's membership of a KR's search may change, from the item's own link
    (:func:`_enter` and :func:`_leave` decide again once the KR is locked)."""
    row = session.execute(select(IssueLink.query_id, IssueLink.left_at).where(
        IssueLink.kr_id == kr_id, *item_filter(item, workspace_id)).limit(1)).first()
    if row is None:
        return verdict
    hand_made = row.query_id is None and row.left_at is None
    if verdict:
        return not hand_made and row.left_at is not None
    return row.query_id == query_id and row.left_at is None


def reconcile(*, session: Session, workspace_id: int, query_id: int,
              items: Sequence[ItemState], now: datetime, complete: bool = True,
              actor_label: str = "sync") -> Moved:
    """Make a search's items what a run of it found. ``complete`` False (the run stopped at
    its limit): items are added, none leaves."""
    row = session.get(KRQuery, query_id)
    if row is None or row.workspace_id != workspace_id:
        return Moved()
    row.refreshed_at, row.last_error = now, None
    krs = _open_krs(session, workspace_id, [row.kr_id])
    if not krs:
        return Moved()
    kr = krs[0]
    links = list(session.scalars(select(IssueLink).where(
        IssueLink.workspace_id == workspace_id, IssueLink.kr_id == kr.id)
        .order_by(IssueLink.id).execution_options(populate_existing=True)))
    before = kr_score(links)
    moved = Moved()
    found = [i for i in items if i.provider in PROVIDERS]
    for item in found:
        if _enter(session, kr, row.id, links, item, now):
            moved.added.append(_ref(item))
    if complete:
        for link in links:
            if link.query_id == row.id and not any(_is_item(link, i) for i in found) \
                    and _leave(link, row.id, now, None):
                moved.left.append(short_ref(link.provider, link.project, link.kind,
                                            link.number))
    return _finish(session, kr, before, links, moved, actor_label, now)


def record_error(*, session: Session, workspace_id: int, query_id: int, error: str,
                 now: datetime) -> None:
    row = session.get(KRQuery, query_id)
    if row is not None and row.workspace_id == workspace_id:
        row.refreshed_at, row.last_error = now, error[:500]


def pending(*, session: Session, workspace_id: int | None) -> list[KRQuery]:
    """Searches to run: those of enabled workspaces (or of one)."""
    query = select(KRQuery).join(Workspace, Workspace.id == KRQuery.workspace_id).where(
        Workspace.disabled_at.is_(None))
    if workspace_id is not None:
        query = query.where(KRQuery.workspace_id == workspace_id)
    return list(session.scalars(query.order_by(KRQuery.workspace_id, KRQuery.id)))
