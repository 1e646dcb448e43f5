"""Looking links up: which KRs a person may link to, which KRs link an item, progress."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import KRType, LinkedItem
from app.models import Cycle, IssueLink, KeyResult, KRQuery, Objective
from app.services.links.query_specs import describe, stored
from app.services.links.refs import ItemState, counts, find, kr_score, parse, short_ref


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
                gitlab_hosts: Iterable[str] | None) -> list[KeyResult]:
    """KRs that link this item."""
    ref = parse(url, gitlab_hosts=gitlab_hosts)
    item = ItemState(ref.provider, ref.host, ref.project, ref.kind, ref.number, "open")
    kr_ids = {lk.kr_id for lk in find(session, item, workspace_id)}
    if not kr_ids:
        return []
    return list(session.scalars(select(KeyResult).where(
        KeyResult.id.in_(kr_ids), KeyResult.workspace_id == workspace_id)
        .order_by(KeyResult.id)).all())


def progress(links: Sequence[IssueLink]) -> tuple[int, int, float]:
    """(closed count, total count, score) of a KR's links; deleted items count in neither."""
    counted = [lk for lk in links if counts(lk.state, lk.left_at)]
    return sum(1 for lk in counted if lk.closed), len(counted), kr_score(counted)


def linked_items(*, session: Session, workspace_id: int, kr_key: str) -> list[LinkedItem]:
    """A KR's linked items: open first, then done, then those that left its saved search or
    were deleted in the tracker."""
    links = session.scalars(select(IssueLink).join(
        KeyResult, KeyResult.id == IssueLink.kr_id).where(
        IssueLink.workspace_id == workspace_id, KeyResult.workspace_id == workspace_id,
        KeyResult.key == kr_key)).all()
    items = [LinkedItem(url=lk.url, ref=short_ref(lk.provider, lk.project, lk.kind, lk.number),
                        title=lk.title, state=lk.state, done=lk.closed, weight=lk.weight,
                        from_query=lk.query_id is not None, left=lk.left_at is not None)
             for lk in links]
    return sorted(items, key=lambda i: (not counts(i.state) or i.left, i.done, i.ref))


def search_of(*, session: Session, workspace_id: int, kr_key: str) -> tuple[str, str | None] | None:
    """A KR's saved search as one line (as Slack takes it) and its last error, if any."""
    row = session.execute(select(KRQuery.spec, KRQuery.last_error).join(
        KeyResult, KeyResult.id == KRQuery.kr_id).where(
        KRQuery.workspace_id == workspace_id, KeyResult.workspace_id == workspace_id,
        KeyResult.key == kr_key)).first()
    return None if row is None else (describe(stored(row.spec)), row.last_error)
