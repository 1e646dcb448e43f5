"""Linking and unlinking an item by KR key, as ``/okr link`` and ``/okr unlink`` do: which KR
is meant when none is named, who may change it, and the KR's progress afterwards."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.domain import LinkProgress
from app.models import KeyResult
from app.services import access
from app.services.access import Principal
from app.services.errors import InvalidValue, NotFound
from app.services.links import attach, hosts, lookup
from app.services.okrs import report as okrs

LINK_USAGE = "<issue or merge request URL> [KR id]"


@dataclass(frozen=True, slots=True)
class Linked:
    """The link made (or found: ``created`` is False when it was linked already)."""

    link_id: int
    url: str
    kr_key: str
    created: bool


def _named_kr(session: Session, workspace_id: int, key: str) -> KeyResult:
    kr = okrs.kr_by_key(session=session, workspace_id=workspace_id, key=key)
    if kr is None:
        raise NotFound(f"There is no key result `{key}`. `/okr mine` lists yours with their ids.")
    return kr


def _pick_for_link(session: Session, workspace_id: int, owner_id: int,
                   key: str | None) -> KeyResult:
    if key:
        return _named_kr(session, workspace_id, key)
    mine = lookup.open_issue_krs(session=session, workspace_id=workspace_id, owner_id=owner_id)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise InvalidValue("You own no open key result that counts issues: name the one to link "
                           f"to, e.g. `/okr link {LINK_USAGE}`.")
    raise InvalidValue("You own several key results that count issues: name one, e.g. "
                       f"`/okr link <url> {mine[0].key}`. Yours: "
                       + ", ".join(f"`{k.key}`" for k in mine[:10]))


def _pick_for_unlink(session: Session, workspace_id: int, url: str, key: str | None,
                     gitlab_hosts: Iterable[str] | None) -> KeyResult:
    if key:
        return _named_kr(session, workspace_id, key)
    linking = lookup.krs_linking(session=session, workspace_id=workspace_id, url=url,
                                 gitlab_hosts=gitlab_hosts)
    if not linking:
        raise NotFound(f"<{url}> is not linked to any key result.")
    if len(linking) > 1:
        raise InvalidValue("That link counts toward several key results: name one, "
                           "e.g. `/okr unlink <url> " + linking[0].key + "`. They are: "
                           + ", ".join(f"`{k.key}`" for k in linking[:10]))
    return linking[0]


def _progress(session: Session, kr: KeyResult) -> LinkProgress:
    closed, total, score = lookup.progress(
        attach.for_kr(session=session, workspace_id=kr.workspace_id, kr_id=kr.id))
    return LinkProgress(kr.key, kr.title, closed, total, score)


def link(*, session: Session, workspace_id: int, actor: Principal, actor_label: str, url: str,
         kr_key: str | None, now: datetime, gitlab_hosts: Iterable[str]) -> Linked:
    """Link ``url`` to the named KR, else to the actor's only open ``issues`` KR.

    ``gitlab_hosts`` are the operator's (OKR_GITLAB_HOSTS); the workspace's own GitLab
    connections are allowed too (:func:`app.services.links.hosts.link_hosts_for`)."""
    allowed = hosts.link_hosts_for(session=session, workspace_id=workspace_id,
                                   gitlab_hosts=gitlab_hosts)
    attach.parse(url, gitlab_hosts=allowed)
    kr = _pick_for_link(session, workspace_id, actor.id, kr_key)
    access.require_edit_kr(session=session, actor=actor, kr=kr)
    row, created = attach.add(session=session, workspace_id=workspace_id, kr=kr, url=url,
                              now=now, actor_label=actor_label, actor_id=actor.id,
                              gitlab_hosts=allowed)
    return Linked(row.id, row.url, kr.key, created)


def unlink(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
           url: str, kr_key: str | None, now: datetime,
           gitlab_hosts: Iterable[str]) -> tuple[str, LinkProgress]:
    """Unlink ``url`` from the named KR, else from the only KR it counts toward; returns the
    unlinked URL and the KR's progress without it. Any host: unlinking calls no tracker."""
    kr = _pick_for_unlink(session, workspace_id, url, kr_key, None)
    access.require_edit_kr(session=session, actor=actor, kr=kr)
    row = attach.remove(session=session, workspace_id=workspace_id, kr=kr, url=url, now=now,
                        actor_label=actor_label, actor_id=actor.id, gitlab_hosts=None)
    return row.url, _progress(session, kr)


def progress(*, session: Session, workspace_id: int, kr_key: str) -> LinkProgress | None:
    kr = okrs.kr_by_key(session=session, workspace_id=workspace_id, key=kr_key)
    return None if kr is None else _progress(session, kr)
