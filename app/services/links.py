"""Links between ``issues`` KRs and tracker items, and how their states move the KR.

A KR of type ``issues`` scores weighted closed / total over its links. What counts as
closed (see :func:`counts_as_closed`): an issue that is closed (for any reason); a merge or
pull request only once it is merged. A merge/pull request closed without merging was
abandoned: it still counts as open work until someone unlinks it or links its replacement.

Every change that moves a KR's score (a state change, a link added or removed, a new
weight) appends a check-in with ``source=issues`` whose note says why ("acme/web#12 closed").
Concurrent changes for the same KR are serialised by locking the KR rows (``FOR UPDATE`` on
PostgreSQL, in id order so two writers never deadlock; SQLite serialises writers anyway).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.domain import CheckinSource, IssueFact, KRFacts, KRType
from app.models import Cycle, IssueLink, KeyResult, Objective
from app.services import audit, checkins
from app.services.errors import InvalidValue, NotFound
from app.services.issue_urls import IssueRef, IssueUrlError, parse_issue_url

STATES = ("open", "closed", "merged", "unknown")
MAX_WEIGHT = 1000.0


@dataclass(frozen=True, slots=True)
class ItemState:
    """A tracker item's state as a webhook or the tracker's API reports it."""

    provider: str
    host: str
    project: str
    kind: str
    number: int
    state: str  # open | closed | merged
    updated_at: datetime | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    matched: int = 0  # links found for the item
    changed: int = 0  # links whose state changed
    checkins: int = 0  # KRs whose score moved (one check-in each)


def counts_as_closed(kind: str, state: str) -> bool:
    if kind == "issue":
        return state in ("closed", "merged")
    return state == "merged"


def short_ref(provider: str, project: str, kind: str, number: int) -> str:
    """``acme/web#12`` for issues and GitHub pull requests, ``acme/web!12`` for GitLab MRs."""
    mark = "!" if provider == "gitlab" and kind == "merge_request" else "#"
    return f"{project}{mark}{number}"


def parse(url: str, *, gitlab_hosts: Iterable[str]) -> IssueRef:
    """Parse and validate a link; InvalidValue(field="url") with the reason otherwise."""
    try:
        ref = parse_issue_url(url, gitlab_hosts=list(gitlab_hosts))
    except IssueUrlError as exc:
        raise InvalidValue(f"{url.strip()[:200]!r} is not a link we can track: {exc}",
                           field="url") from exc
    except ValueError as exc:  # urlsplit's own complaints (a bad port, a broken IPv6 host)
        raise InvalidValue(f"{url.strip()[:200]!r} is not a valid link", field="url") from exc
    return ref


def _kr_score(links: Sequence[IssueLink]) -> float:
    facts = KRFacts(id="", kr_type=KRType.ISSUES,
                    issues=tuple(IssueFact(closed=lk.closed, weight=lk.weight) for lk in links))
    return scoring.kr_score(facts)


def _lock_krs(session: Session, workspace_ids: set[int], kr_ids: Iterable[int]) -> list[KeyResult]:
    ids = sorted(set(kr_ids))
    if not ids:
        return []
    return list(session.scalars(
        select(KeyResult)
        .where(KeyResult.id.in_(ids), KeyResult.workspace_id.in_(workspace_ids))
        .order_by(KeyResult.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all())


def _links_of(session: Session, kr_ids: Iterable[int]) -> dict[int, list[IssueLink]]:
    out: dict[int, list[IssueLink]] = {}
    # populate_existing: rows read before the lock was granted may have changed since.
    for link in session.scalars(
        select(IssueLink).where(IssueLink.kr_id.in_(sorted(set(kr_ids)))).order_by(IssueLink.id)
        .execution_options(populate_existing=True)
    ):
        out.setdefault(link.kr_id, []).append(link)
    return out


def _note_score(
    session: Session, kr: KeyResult, before: float, after: float, note: str, *,
    actor_label: str, now: datetime,
) -> bool:
    """Append a check-in if the score moved; True when it did."""
    if KRType(kr.kr_type) != KRType.ISSUES or math.isclose(before, after, abs_tol=1e-9):
        return False
    # An automatic check-in is history, not the owner checking in: keep the owner's last
    # check-in time so prompts and staleness still reflect what people did.
    last_human = kr.last_checkin_at
    checkins.record(
        session=session, workspace_id=kr.workspace_id, kr=kr,
        data=checkins.CheckinInput(kr_key=kr.key, note=note[:checkins.MAX_TEXT]),
        author_id=None, actor_label=actor_label, source=CheckinSource.ISSUES, now=now,
        score_override=after,
    )
    kr.last_checkin_at = last_human
    return True


def find(session: Session, item: ItemState, workspace_id: int | None = None) -> list[IssueLink]:
    """Links pointing at an item. GitHub issues and pull requests share one number space, so
    a GitHub link matches by number whatever kind its URL said; GitLab's do not."""
    query = select(IssueLink).where(
        IssueLink.provider == item.provider, IssueLink.host == item.host.lower(),
        # Trackers treat project paths case-insensitively. Links made here store them
        # lowercased; links written by other paths (imports) may keep the case of the URL.
        IssueLink.project.in_(sorted({item.project, item.project.lower()})),
        IssueLink.number == item.number,
    )
    if item.provider != "github":
        query = query.where(IssueLink.kind == item.kind)
    if workspace_id is not None:
        query = query.where(IssueLink.workspace_id == workspace_id)
    return list(session.scalars(query.order_by(IssueLink.id)).all())


def apply_state(
    *, session: Session, item: ItemState, now: datetime, actor_label: str,
    reason: str | None = None, workspace_id: int | None = None,
    candidates: Sequence[IssueLink] | None = None,
) -> ApplyResult:
    """Apply an item's state to every link pointing at it, re-score and note moved KRs.

    Idempotent: applying the same state twice changes nothing the second time. A state
    whose ``updated_at`` is older than the one already applied is ignored (late delivery).
    """
    if item.state not in ("open", "closed", "merged"):
        raise InvalidValue(f"unknown state {item.state!r}", field="state")
    if candidates is None:
        candidates = find(session, item, workspace_id)
    if not candidates:
        return ApplyResult()
    krs = _lock_krs(session, {c.workspace_id for c in candidates}, (c.kr_id for c in candidates))
    by_kr = _links_of(session, (kr.id for kr in krs))
    wanted = {c.id for c in candidates}
    changed = moved = 0
    for kr in krs:
        links = by_kr.get(kr.id, [])
        before = _kr_score(links)
        touched: IssueLink | None = None
        for link in links:
            if link.id not in wanted or _stale(link, item.updated_at):
                continue
            kind = item.kind if item.provider == "github" else link.kind
            closed = counts_as_closed(kind, item.state)
            if (link.state, link.closed, link.kind) != (item.state, closed, kind):
                changed += 1
                touched = link
                link.kind, link.state, link.closed = kind, item.state, closed
                link.state_updated_at = now
            if item.updated_at is not None:
                link.source_updated_at = item.updated_at
            if item.title:
                link.title = item.title[:300]
        if touched is None:
            continue
        ref = short_ref(item.provider, item.project, touched.kind, item.number)
        note = f"{ref} {'reopened' if item.state == 'open' else item.state}"
        if reason:
            note = f"{note} ({reason})"
        if _note_score(session, kr, before, _kr_score(links), note,
                       actor_label=actor_label, now=now):
            moved += 1
    session.flush()
    return ApplyResult(matched=len(candidates), changed=changed, checkins=moved)


def _stale(link: IssueLink, updated_at: datetime | None) -> bool:
    return (updated_at is not None and link.source_updated_at is not None
            and updated_at < link.source_updated_at)


def add(
    *, session: Session, workspace_id: int, kr: KeyResult, url: str, now: datetime,
    actor_label: str, gitlab_hosts: Iterable[str], weight: float | None = None,
    actor_id: int | None = None,
) -> tuple[IssueLink, bool]:
    """Link an item to an ``issues`` KR; returns (link, created).

    Linking the same item again only updates its weight when one is given. The state starts
    as ``unknown`` (counted open) until a webhook or reconciliation says otherwise.
    """
    if kr.workspace_id != workspace_id:
        raise NotFound("unknown key result")
    if KRType(kr.kr_type) != KRType.ISSUES:
        raise InvalidValue(
            f"{kr.key} is a {kr.kr_type!s} key result; only 'issues' key results count linked "
            "issues", field="kr")
    if weight is not None and (not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT):
        raise InvalidValue(f"a link weight is a number above 0 and at most {MAX_WEIGHT:g}",
                           field="weight")
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    (kr,) = _lock_krs(session, {workspace_id}, [kr.id])
    links = _links_of(session, [kr.id]).get(kr.id, [])
    before = _kr_score(links)
    label = short_ref(ref.provider, ref.project, ref.kind, ref.number)
    existing = next((lk for lk in links if lk.url.lower() == ref.url.lower()), None)
    if existing is not None:
        if weight is None or existing.weight == weight:
            return existing, False
        old = existing.weight
        existing.weight = weight
        _note_score(session, kr, before, _kr_score(links), f"{label} weight {old:g} -> {weight:g}",
                    actor_label=actor_label, now=now)
        _audit(session, kr, "link.weight", actor_label, actor_id, now, url=ref.url, weight=weight)
        session.flush()
        return existing, False
    link = IssueLink(
        workspace_id=workspace_id, kr_id=kr.id, url=ref.url, provider=ref.provider,
        host=ref.host, project=ref.project.lower(), kind=ref.kind, number=ref.number,
        weight=weight if weight is not None else 1.0, closed=False, state="unknown",
        created_at=now,
    )
    session.add(link)
    _note_score(session, kr, before, _kr_score([*links, link]), f"linked {label}",
                actor_label=actor_label, now=now)
    _audit(session, kr, "link.add", actor_label, actor_id, now, url=ref.url, weight=link.weight)
    session.flush()
    return link, True


def remove(
    *, session: Session, workspace_id: int, kr: KeyResult, url: str, now: datetime,
    actor_label: str, gitlab_hosts: Iterable[str], actor_id: int | None = None,
) -> IssueLink:
    """Unlink an item from a KR; NotFound when it is not linked there."""
    if kr.workspace_id != workspace_id:
        raise NotFound("unknown key result")
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    (kr,) = _lock_krs(session, {workspace_id}, [kr.id])
    links = _links_of(session, [kr.id]).get(kr.id, [])
    link = next((lk for lk in links if lk.url.lower() == ref.url.lower()), None)
    if link is None:
        raise NotFound(f"{ref.url} is not linked to {kr.key}")
    before = _kr_score(links)
    rest = [lk for lk in links if lk.id != link.id]
    session.delete(link)
    label = short_ref(ref.provider, ref.project, link.kind, ref.number)
    _note_score(session, kr, before, _kr_score(rest), f"unlinked {label}",
                actor_label=actor_label, now=now)
    _audit(session, kr, "link.remove", actor_label, actor_id, now, url=ref.url)
    session.flush()
    return link


def replace_all(
    *, session: Session, workspace_id: int, kr: KeyResult, entries: Sequence[tuple[str, float]],
    now: datetime, actor_label: str, gitlab_hosts: Iterable[str],
) -> None:
    """Make a KR's links exactly ``entries`` (url, weight), as an import file states them."""
    hosts = list(gitlab_hosts)
    wanted = {parse(url, gitlab_hosts=hosts).url: weight for url, weight in entries}
    keep = {url.lower() for url in wanted}
    for link in list(_links_of(session, [kr.id]).get(kr.id, [])):
        if link.url.lower() not in keep:
            remove(session=session, workspace_id=workspace_id, kr=kr, url=link.url, now=now,
                   actor_label=actor_label, gitlab_hosts=hosts)
    for url, weight in wanted.items():
        add(session=session, workspace_id=workspace_id, kr=kr, url=url, weight=weight, now=now,
            actor_label=actor_label, gitlab_hosts=hosts)


def open_issue_krs(*, session: Session, workspace_id: int, owner_id: int) -> list[KeyResult]:
    """The person's active ``issues`` KRs in cycles that are not closed."""
    return list(session.scalars(
        select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id)
        .join(Cycle, Cycle.id == Objective.cycle_id)
        .where(KeyResult.workspace_id == workspace_id, KeyResult.owner_id == owner_id,
               KeyResult.kr_type == KRType.ISSUES.value, KeyResult.state == "active",
               Cycle.phase != "closed")
        .order_by(Cycle.start_date.desc(), KeyResult.position, KeyResult.id)
    ).all())


def krs_linking(*, session: Session, workspace_id: int, url: str,
                gitlab_hosts: Iterable[str]) -> list[KeyResult]:
    """KRs that link this item."""
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    item = ItemState(ref.provider, ref.host, ref.project, ref.kind, ref.number, "open")
    kr_ids = {lk.kr_id for lk in find(session, item, workspace_id)}
    if not kr_ids:
        return []
    return list(session.scalars(select(KeyResult).where(KeyResult.id.in_(kr_ids))
                                .order_by(KeyResult.id)).all())


def progress(links: Sequence[IssueLink]) -> tuple[int, int, float]:
    """(closed count, total count, score) of a KR's links."""
    return sum(1 for lk in links if lk.closed), len(links), _kr_score(links)


def for_kr(*, session: Session, workspace_id: int, kr_id: int) -> list[IssueLink]:
    return list(session.scalars(
        select(IssueLink).where(IssueLink.workspace_id == workspace_id, IssueLink.kr_id == kr_id)
        .order_by(IssueLink.id)
    ).all())


def _audit(session: Session, kr: KeyResult, action: str, actor_label: str,
           actor_id: int | None, now: datetime, **after: object) -> None:
    audit.record(session=session, workspace_id=kr.workspace_id, actor_id=actor_id,
                 actor_label=actor_label, action=action, subject_type="key_result",
                 subject_key=kr.key, now=now, after=dict(after))
