"""An item that moved: a GitHub issue transferred to another repository keeps its links.

The links of one workspace that point at the old item are pointed at the new one (audited);
a KR that already links the new item keeps that link and loses the old one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import IssueLink, KeyResult
from app.services import audit
from app.services.links.refs import ItemMove, item_filter


def move_links(*, session: Session, move: ItemMove, workspace_id: int, now: datetime,
               actor_label: str) -> int:
    """Point the workspace's links at ``move.old`` to ``move.new``; how many moved."""
    links = list(session.scalars(select(IssueLink).where(
        *item_filter(move.old, workspace_id)).order_by(IssueLink.id)))
    moved = 0
    for link in links:
        kr = session.get(KeyResult, link.kr_id)
        if kr is None or kr.workspace_id != workspace_id:
            continue
        before = link.url
        taken = session.scalar(select(IssueLink.id).where(
            IssueLink.workspace_id == workspace_id, IssueLink.kr_id == link.kr_id,
            IssueLink.url == move.url))
        if taken is not None:
            session.delete(link)  # the KR links the new item already: one link is enough
        else:
            link.host, link.project, link.number = move.new.host, move.new.project.lower(), \
                move.new.number
            link.url, link.kind = move.url, move.new.kind
            moved += 1
        audit.record(session=session, workspace_id=workspace_id, actor_label=actor_label,
                     action="link.move", subject_type="key_result", subject_key=kr.key,
                     now=now, before={"url": before},
                     after={"url": move.url, "merged": taken is not None})
    session.flush()
    return moved
