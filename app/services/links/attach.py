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
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import CheckinSource, KRType
from app.models import Checkin, IssueLink, KeyResult
from app.services import audit
from app.services.errors import InvalidValue, NotFound
from app.services.links.refs import (
    MAX_NOTE,
    STATES,
    ApplyResult,
    ItemState,
    LinkRef,
    counts_as_closed,
    find,
    kr_score,
    kr_score_of,
    parse,
    short_ref,
    stored_project,
)
from app.services.links.state import apply_state
from app.services.okrs.writable import require_open_kr

__all__ = [
    "MAX_NOTE", "MAX_WEIGHT", "STATES", "ApplyResult", "ItemState", "LinkRef", "add",
    "apply_state", "counts_as_closed", "find", "for_kr", "kr_score", "kr_score_of", "parse",
    "remove", "replace_all", "short_ref",
]

MAX_WEIGHT = 1000.0



def _locked(session: Session, workspace_ids: set[int],
            kr_ids: Iterable[int]) -> list[tuple[KeyResult, list[IssueLink]]]:
    """Lock KRs (in id order, so concurrent writers never deadlock), then read their links.

    Two statements on purpose: a locking read joined to the links would, after waiting for a
    concurrent writer, still return the links as they were before it committed.
    populate_existing: objects loaded before the lock was granted may be out of date.
    """
    ids = sorted(set(kr_ids))
    if not ids:
        return []
    krs = session.scalars(
        select(KeyResult)
        .where(KeyResult.id.in_(ids), KeyResult.workspace_id.in_(workspace_ids))
        .order_by(KeyResult.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    out: dict[int, tuple[KeyResult, list[IssueLink]]] = {kr.id: (kr, []) for kr in krs}
    for link in session.scalars(
        select(IssueLink).where(IssueLink.kr_id.in_(list(out))).order_by(IssueLink.id)
        .execution_options(populate_existing=True)
    ):
        out[link.kr_id][1].append(link)
    return list(out.values())


def _note_score(
    session: Session, kr: KeyResult, before: float, after: float, note: str, *,
    actor_label: str, now: datetime,
) -> bool:
    """Append a check-in (source ``issues``) if the score moved; True when it did.

    Written directly rather than through checkins.record: an automatic entry is history,
    not the owner checking in, so the KR's value, status and last check-in time (which
    drive prompts and staleness) stay as people left them.
    """
    if KRType(kr.kr_type) != KRType.ISSUES or math.isclose(before, after, abs_tol=1e-9):
        return False
    session.add(Checkin(workspace_id=kr.workspace_id, kr_id=kr.id, author_id=None, at=now,
                        score=after, note=note[:MAX_NOTE], source=CheckinSource.ISSUES.value))
    audit.record(session=session, workspace_id=kr.workspace_id, actor_label=actor_label,
                 action="checkin", subject_type="key_result", subject_key=kr.key, now=now,
                 before={"score": round(before, 6)}, after={"score": round(after, 6),
                                                            "note": note[:MAX_NOTE]})
    return True


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
    require_open_kr(session, kr)
    if KRType(kr.kr_type) != KRType.ISSUES:
        raise InvalidValue(
            f"{kr.key} is a {kr.kr_type!s} key result; only 'issues' key results count linked "
            "issues", field="kr")
    if weight is not None and (not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT):
        raise InvalidValue(f"a link weight is a number above 0 and at most {MAX_WEIGHT:g}",
                           field="weight")
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    ((kr, links),) = _locked(session, {workspace_id}, [kr.id])
    before = kr_score(links)
    label = short_ref(ref.provider, ref.project, ref.kind, ref.number)
    existing = next((lk for lk in links if lk.url.lower() == ref.url.lower()), None)
    if existing is not None and (existing.query_id is not None or existing.left_at is not None):
        return _adopt(session, kr, links, existing, weight, label, actor_label, actor_id,
                      now), True
    if existing is not None:
        if weight is None or existing.weight == weight:
            return existing, False
        old = existing.weight
        existing.weight = weight
        _note_score(session, kr, before, kr_score(links), f"{label} weight {old:g} -> {weight:g}",
                    actor_label=actor_label, now=now)
        _audit(session, kr, "link.weight", actor_label, actor_id, now, url=ref.url, weight=weight)
        session.flush()
        return existing, False
    link = IssueLink(
        workspace_id=workspace_id, kr_id=kr.id, url=ref.url, provider=ref.provider,
        host=ref.host, project=stored_project(ref), kind=ref.kind, number=ref.number,
        weight=weight if weight is not None else 1.0, closed=False, state="unknown",
        created_at=now,
    )
    session.add(link)
    _note_score(session, kr, before, kr_score([*links, link]), f"linked {label}",
                actor_label=actor_label, now=now)
    _audit(session, kr, "link.add", actor_label, actor_id, now, url=ref.url, weight=link.weight)
    session.flush()
    return link, True


def _adopt(session: Session, kr: KeyResult, links: list[IssueLink], link: IssueLink,
           weight: float | None, label: str, actor_label: str, actor_id: int | None,
           now: datetime) -> IssueLink:
    """A person links an item the KR's saved search brought in (or one that left it): the
    link is theirs from now on, counted, and no search removes it."""
    before = kr_score(links)
    link.query_id, link.left_at = None, None
    if weight is not None:
        link.weight = weight
    _note_score(session, kr, before, kr_score(links), f"linked {label}",
                actor_label=actor_label, now=now)
    _audit(session, kr, "link.add", actor_label, actor_id, now, url=link.url,
           weight=link.weight)
    session.flush()
    return link


def remove(
    *, session: Session, workspace_id: int, kr: KeyResult, url: str, now: datetime,
    actor_label: str, gitlab_hosts: Iterable[str] | None, actor_id: int | None = None,
) -> IssueLink:
    """Unlink an item from a KR; NotFound when it is not linked there."""
    if kr.workspace_id != workspace_id:
        raise NotFound("unknown key result")
    require_open_kr(session, kr)
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    ((kr, links),) = _locked(session, {workspace_id}, [kr.id])
    link = next((lk for lk in links if lk.url.lower() == ref.url.lower()), None)
    if link is None:
        raise NotFound(f"{ref.url} is not linked to {kr.key}")
    if link.query_id is not None and link.left_at is None:
        raise InvalidValue(f"{ref.url} counts because it matches the saved search of "
                           f"{kr.key}: it leaves when it no longer matches (change its labels "
                           f"or milestone), or change the search with `/okr edit {kr.key}`",
                           field="url")
    before = kr_score(links)
    rest = [lk for lk in links if lk.id != link.id]
    session.delete(link)
    label = short_ref(ref.provider, ref.project, link.kind, ref.number)
    _note_score(session, kr, before, kr_score(rest), f"unlinked {label}",
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
    for link in for_kr(session=session, workspace_id=workspace_id, kr_id=kr.id):
        if link.url.lower() not in keep:
            remove(session=session, workspace_id=workspace_id, kr=kr, url=link.url, now=now,
                   actor_label=actor_label, gitlab_hosts=hosts)
    for url, weight in wanted.items():
        add(session=session, workspace_id=workspace_id, kr=kr, url=url, weight=weight, now=now,
            actor_label=actor_label, gitlab_hosts=hosts)


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
