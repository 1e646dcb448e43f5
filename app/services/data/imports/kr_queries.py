"""Writing an import file's saved searches (a KR's ``query``).

``query: {...}`` sets a KR's search (replacing another), ``query: null`` clears it, no
``query`` key leaves it as it is. A cleared search's items stop counting (kept as left
traces, like items that left it). The items themselves come with the next run of the search
(``okr sync-issues``, the daily sync, or right after ``okr import``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.models import IssueLink, KRQuery
from app.services.data.imports.apply import Context
from app.services.data.imports.checks import Document
from app.services.links.query_specs import from_mapping


def apply_queries(ctx: Context, doc: Document) -> list[int]:
    """Set or clear the searches the file names; the ids of KRs whose search changed."""
    wanted = [(kr.id, kr.query) for _, o in doc.objectives for kr in o.key_results
              if "query" in kr.model_fields_set]
    if not wanted:
        return []
    kr_ids = ctx.ids["key_results"]
    stored = {row.kr_id: row for row in ctx.session.scalars(select(KRQuery).where(
        KRQuery.workspace_id == ctx.workspace.id))}
    changed: list[int] = []
    for key, raw in wanted:
        kr_id = kr_ids[key]
        row = stored.get(kr_id)
        spec = from_mapping(raw).as_dict() if raw is not None else None
        if (row.spec if row is not None else None) == spec:
            continue
        before = {"query": row.spec} if row is not None else None
        if spec is None and row is not None:
            _clear(ctx, row)
        elif row is None and spec is not None:
            parsed = from_mapping(spec)
            ctx.session.add(KRQuery(
                workspace_id=ctx.workspace.id, kr_id=kr_id, provider=parsed.provider,
                host=parsed.host, project=parsed.match_project, spec=spec,
                created_at=ctx.now, updated_at=ctx.now))
        elif row is not None and spec is not None:
            parsed = from_mapping(spec)
            row.provider, row.host, row.project = parsed.provider, parsed.host, \
                parsed.match_project
            row.spec, row.updated_at, row.refreshed_at, row.last_error = spec, ctx.now, None, None
        action = "import.create" if row is None else "import.update"
        ctx.audit(action, "kr_query", key, before, {"query": spec})
        changed.append(kr_id)
    ctx.session.flush()
    return changed


def _clear(ctx: Context, row: KRQuery) -> None:
    values: dict[str, Any] = {"query_id": None}
    where = [IssueLink.workspace_id == ctx.workspace.id, IssueLink.query_id == row.id]
    ctx.session.execute(update(IssueLink).where(*where, IssueLink.left_at.is_(None))
                        .values(left_at=ctx.now, **values))
    ctx.session.execute(update(IssueLink).where(*where).values(**values))
    ctx.session.delete(row)
