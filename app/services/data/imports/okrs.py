"""Writing an import file's objectives, key results, alignment, issue links and check-ins.

See :mod:`~app.services.data.imports.apply` for the upsert rules these steps follow.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.models import IssueLink, KeyResult, Objective
from app.services.data.bulk import bulk_insert, bulk_update
from app.services.data.imports import kr_checkins
from app.services.data.imports.apply import (
    Context,
    Entry,
    Spec,
    key_ids,
    load_existing,
    upsert,
    write_deferred,
)
from app.services.data.imports.checks import Document
from app.services.data.imports.kr_queries import apply_queries
from app.services.data.imports.schema import KeyResultIn, ObjectiveIn
from app.services.links.urls import parse_issue_url

OBJECTIVE = Spec(
    "objectives", "objective", Objective, "key",
    {"title": "title", "description": "description", "visibility": "visibility",
     "commitment": "commitment", "development": "is_development", "rollup": "rollup_mode",
     "draft": "is_draft", "position": "position"},
    refs={"cycle": ("cycle_id", "cycles"), "team": ("team_id", "teams"),
          "owner": ("owner_id", "people")},
    deferred=frozenset({"aligned_to"}),
    stamps=("created_at", "updated_at"),
)
KEY_RESULT = Spec(
    "key_results", "key_result", KeyResult, "key",
    {"title": "title", "type": "kr_type", "start": "start_value", "target": "target_value",
     "unit": "unit", "weight": "weight", "state": "state", "position": "position",
     "due": "due_date", "targets": "targets"},
    refs={"objective": ("objective_id", "objectives"), "owner": ("owner_id", "people")},
    stamps=("created_at", "updated_at"),
)


def _objective_entry(index: int, o: ObjectiveIn, default_cycle: str | None) -> Entry:
    values = {
        "title": o.title, "cycle": o.cycle or default_cycle, "team": o.team, "owner": o.owner,
        "description": o.description, "aligned_to": o.aligned_to,
        "visibility": o.visibility or "public", "commitment": o.commitment or "committed",
        "development": bool(o.development), "rollup": o.rollup or "krs",
        "draft": bool(o.draft), "position": index,
    }
    # Position (file order) is set when a row is created; a partial file imported later
    # would otherwise reshuffle everything it does not list.
    given = o.model_fields_set - {"id", "key_results"}
    return Entry(o.id, values, frozenset(given))


def _kr_entry(objective: str, position: int, kr: KeyResultIn) -> Entry:
    values = {
        "objective": objective, "title": kr.title, "type": kr.resolved_type(),
        "start": kr.start, "target": kr.target, "unit": kr.unit, "weight": kr.weight,
        "owner": kr.owner, "state": kr.state or "active", "position": position,
        "due": kr.due,
        "targets": [{"on": t.on.isoformat(), "value": t.value} for t in kr.targets]
        if kr.targets else None,
    }
    given = (kr.model_fields_set - {"id", "links", "query", "current", "score", "status"}) | {
        "objective"}
    return Entry(kr.id, values, frozenset(given))


def _stored_alignment(ctx: Context) -> dict[int, str]:
    """Objective id -> its ``aligned_to`` as the file would spell it."""
    obj_key = ctx.keys("objectives")
    kr_rows = {kr_id: (key, obj_id) for kr_id, key, obj_id in ctx.session.execute(
        select(KeyResult.id, KeyResult.key, KeyResult.objective_id).where(
            KeyResult.workspace_id == ctx.workspace.id))}
    out: dict[int, str] = {}
    for oid, aligned_obj, aligned_kr in ctx.session.execute(
        select(Objective.id, Objective.aligned_objective_id, Objective.aligned_kr_id).where(
            Objective.workspace_id == ctx.workspace.id)
    ):
        if aligned_kr is not None and aligned_kr in kr_rows:
            key, parent = kr_rows[aligned_kr]
            out[oid] = f"{obj_key[parent]}/{key}"
        elif aligned_obj is not None:
            out[oid] = obj_key[aligned_obj]
    return out


def apply_okrs(ctx: Context, doc: Document) -> None:
    ctx.ids.setdefault("objectives", key_ids(ctx, Objective, "key"))
    cycles = ctx.ids.get("cycles", {})
    default_cycle = next(iter(cycles)) if len(cycles) == 1 else None
    alignment = _stored_alignment(ctx)
    existing = load_existing(ctx, OBJECTIVE)
    for values in existing.values():
        values["aligned_to"] = alignment.get(values["id"])
    def aligned_early(_name: str, ref: Any) -> dict[str, Any] | None:
        obj, _, kr = str(ref).partition("/")
        return None if kr else {"aligned_objective_id": ctx.ids["objectives"][obj]}

    objectives = upsert(ctx, OBJECTIVE, (_objective_entry(i, o, default_cycle)
                                         for i, o in doc.objectives), existing,
                        early=aligned_early)
    kr_entries = [_kr_entry(o.id, j, kr) for _, o in doc.objectives
                  for j, kr in enumerate(o.key_results)]
    kr_existing = load_existing(ctx, KEY_RESULT)
    first = kr_checkins.for_new_krs(ctx, doc, kr_entries, kr_existing)
    upsert(ctx, KEY_RESULT, kr_entries, kr_existing, extra=first.projections)

    obj_ids, kr_ids = ctx.ids["objectives"], ctx.ids["key_results"]

    def resolve(_name: str, ref: Any) -> dict[str, Any]:
        if ref is None:
            return {"aligned_objective_id": None, "aligned_kr_id": None}
        obj, _, kr = str(ref).partition("/")
        if kr:
            return {"aligned_objective_id": None, "aligned_kr_id": kr_ids[kr]}
        return {"aligned_objective_id": obj_ids[obj], "aligned_kr_id": None}

    write_deferred(ctx, OBJECTIVE, objectives, resolve)
    _apply_links(ctx, doc)
    ctx.summary.queries += len(apply_queries(ctx, doc))
    kr_checkins.apply(ctx, doc, first)


def _apply_links(ctx: Context, doc: Document) -> None:
    counts = ctx.summary.counts["links"]
    kr_ids = ctx.ids["key_results"]
    kr_key = ctx.keys("key_results")
    wanted = [(kr, link) for _, o in doc.objectives for kr in o.key_results
              for link in kr.links or ()]
    if not wanted:
        return
    stored = {(kr_key[kr_id], url): (link_id, weight) for link_id, kr_id, url, weight in
              ctx.session.execute(select(IssueLink.id, IssueLink.kr_id, IssueLink.url,
                                         IssueLink.weight).where(
                  IssueLink.workspace_id == ctx.workspace.id))}
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for kr, link in wanted:
        ref = parse_issue_url(link.url, gitlab_hosts=ctx.link_hosts)
        subject = f"{kr.id} {ref.url}"
        found = stored.get((kr.id, ref.url))
        if found is None:
            creates.append({
                "workspace_id": ctx.workspace.id, "kr_id": kr_ids[kr.id], "url": ref.url,
                "provider": ref.provider, "host": ref.host, "project": ref.project.lower(),
                "kind": ref.kind, "number": ref.number, "weight": link.weight,
                "closed": False, "state_updated_at": None, "created_at": ctx.now,
            })
            ctx.audit("import.create", "issue_link", subject, None,
                      {"url": ref.url, "weight": link.weight})
            counts.created += 1
        elif "weight" in link.model_fields_set and found[1] != link.weight:
            updates.append({"id": found[0], "weight": link.weight})
            ctx.audit("import.update", "issue_link", subject, {"weight": found[1]},
                      {"weight": link.weight})
            counts.updated += 1
        else:
            counts.unchanged += 1
    if creates:
        bulk_insert(ctx.session, IssueLink, creates)
    bulk_update(ctx.session, IssueLink, updates)
