"""The vocabulary of issue links: an item's state, what counts as closed, how an item is
named, parsing links, and finding the links that point at an item."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from app.domain import IssueFact, KRFacts, KRType
from app.models import IssueLink
from app.services.errors import InvalidValue
from app.services.links import linear_ids
from app.services.links.urls import IssueRef, IssueUrlError, parse_issue_url

STATES = ("open", "closed", "merged", "deleted", "unknown")
# A deleted item is neither open nor done: it leaves the KR's denominator.
DELETED = "deleted"
MAX_NOTE = 3000


@dataclass(frozen=True, slots=True)
class ItemState:
    """A tracker item's state as a webhook or the tracker's API reports it."""

    provider: str
    host: str
    project: str
    kind: str
    number: int
    state: str  # open | closed | merged | deleted
    updated_at: datetime | None = None
    title: str | None = None
    # What saved searches match on, when the source says (a webhook, a search): the item's
    # labels, and its milestone's title ("" for none). None: not known from this source.
    labels: tuple[str, ...] | None = None
    milestone: str | None = None


@dataclass(frozen=True, slots=True)
class ItemMove:
    """An item that now lives elsewhere (a GitHub issue transferred to another repository):
    the links pointing at ``old`` follow it to ``new``, whose state then applies."""

    old: ItemState
    new: ItemState
    url: str  # the canonical link to the new item


@dataclass(frozen=True, slots=True)
class ApplyResult:
    matched: int = 0  # links found for the item
    changed: int = 0  # links whose state changed
    checkins: int = 0  # KRs whose score moved (one check-in each)


def counts(state: str, left_at: datetime | None = None) -> bool:
    """Whether a link counts toward its KR at all: a deleted item does not, nor one that
    left the KR's saved search (``left_at``)."""
    return state != DELETED and left_at is None


def counts_as_closed(kind: str, state: str) -> bool:
    if kind == "issue":
        return state in ("closed", "merged")
    return state == "merged"


def short_ref(provider: str, project: str, kind: str, number: int) -> str:
    """``acme/web#12`` for issues and GitHub pull requests, ``acme/web!12`` for GitLab MRs,
    ``PAY-12`` for Jira issues, ``ENG-12`` for a Linear issue."""
    if provider == "jira":
        return f"{project.upper()}-{number}"
    if provider == linear_ids.PROVIDER:
        return linear_ids.identifier(project, number)
    mark = "!" if provider == "gitlab" and kind == "merge_request" else "#"
    return f"{project}{mark}{number}"


def stored_project(ref: IssueRef) -> str:
    """A new link's project as stored: lowercased (GitLab and GitHub paths are
    case-insensitive), except Linear's ``org/TEAM``, already normalised by its parser."""
    return ref.project if ref.provider == linear_ids.PROVIDER else ref.project.lower()


def parse(url: str, *, gitlab_hosts: Iterable[str] | None) -> IssueRef:
    """Parse and validate a link; InvalidValue(field="url") with the reason otherwise.

    ``gitlab_hosts`` is the allow-list (:func:`app.services.links.hosts.link_hosts`); None
    accepts any host (only to find or remove a link already made, never to call it)."""
    try:
        ref = parse_issue_url(url, gitlab_hosts=None if gitlab_hosts is None
                              else list(gitlab_hosts))
    except IssueUrlError as exc:
        raise InvalidValue(f"{url.strip()[:200]!r} is not a link we can track: {exc}",
                           field="url") from exc
    except ValueError as exc:  # urlsplit's own complaints (a bad port, a broken IPv6 host)
        raise InvalidValue(f"{url.strip()[:200]!r} is not a valid link", field="url") from exc
    return ref


def kr_score_of(pairs: Iterable[tuple[bool, float]]) -> float:
    """An issues KR's score from its links' (closed, weight)."""
    facts = KRFacts(id="", kr_type=KRType.ISSUES,
                    issues=tuple(IssueFact(closed=closed, weight=weight)
                                 for closed, weight in pairs))
    return scoring.kr_score(facts)


def kr_score(links: Sequence[IssueLink]) -> float:
    return kr_score_of((lk.closed, lk.weight) for lk in links if counts(lk.state, lk.left_at))


class LinkRef(NamedTuple):
    id: int
    kr_id: int
    workspace_id: int


def item_filter(item: ItemState, workspace_id: int | None = None) -> list[Any]:
    """WHERE clauses for the links pointing at an item.

    GitHub issues and pull requests share one number space, so a GitHub link matches by
    number whatever kind its URL said; GitLab's do not. Project paths match
    case-insensitively: links made here are stored lowercased, imported ones may keep the
    case of their URL.
    """
    where: list[Any] = [
        IssueLink.provider == item.provider, IssueLink.host == item.host.lower(),
        IssueLink.project.in_(sorted({item.project, item.project.lower()})),
        IssueLink.number == item.number,
    ]
    if item.provider != "github":
        where.append(IssueLink.kind == item.kind)
    if workspace_id is not None:
        where.append(IssueLink.workspace_id == workspace_id)
    return where


def find(session: Session, item: ItemState, workspace_id: int | None = None) -> list[LinkRef]:
    """The links pointing at an item."""
    query = select(IssueLink.id, IssueLink.kr_id, IssueLink.workspace_id).where(
        *item_filter(item, workspace_id))
    return [LinkRef(*row) for row in session.execute(query.order_by(IssueLink.id))]
