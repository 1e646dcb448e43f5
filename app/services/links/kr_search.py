"""The KR modals' saved search: ``/okr new`` and ``/okr edit`` with a "Saved search" line.

Wraps :mod:`app.services.okrs.editing` (which knows nothing of trackers): the lines are
checked first (:func:`app.services.links.query_specs.parse_line`, errors on the KR's
``query`` field, ``kr<i>.query`` in a creation form), then the objective or KR is saved, then
each search is set in the same transaction (:func:`app.services.links.queries.set_query`,
audited), so a refusal anywhere stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import KRType, Saved
from app.models import KeyResult, Objective
from app.services.access import Principal
from app.services.errors import InvalidValue
from app.services.links import hosts, queries
from app.services.links.query_specs import (
    QuerySpec,
    QuerySpecError,
    describe,
    parse_line,
    stored,
)
from app.services.okrs import editing
from app.services.okrs.editing import KRDraft, ObjectiveDraft


def check_line(line: str | None, kr_type: str | None, field: str) -> QuerySpec | None:
    """A modal's search line as a search (None when empty); InvalidValue on ``field``."""
    try:
        spec = parse_line(line or "")
    except QuerySpecError as exc:
        where = f"{exc.key}: " if exc.key and exc.key != "provider" else ""
        raise InvalidValue(f"{where}{exc.message}", field=field) from None
    if spec is not None and kr_type != KRType.ISSUES.value:
        raise InvalidValue("a saved search needs the type Linked issues", field=field)
    return spec


def _set(session: Session, workspace_id: int, kr: KeyResult, spec: QuerySpec | None,
         actor: Principal, actor_label: str, now: datetime, gitlab_hosts: Sequence[str],
         field: str, changed: list[int]) -> None:
    allowed = hosts.link_hosts_for(session=session, workspace_id=workspace_id,
                                   gitlab_hosts=gitlab_hosts)
    try:
        if queries.set_query(session=session, workspace_id=workspace_id, kr=kr, spec=spec,
                             now=now, actor_label=actor_label, actor_id=actor.id,
                             gitlab_hosts=allowed) and spec is not None:
            changed.append(kr.id)
    except InvalidValue as exc:
        raise InvalidValue(exc.message, field=field) from None


def create_objective(*, session: Session, workspace_id: int, actor: Principal,
                     actor_label: str, objective: ObjectiveDraft, krs: Sequence[KRDraft],
                     lines: Sequence[str | None], now: datetime,
                     gitlab_hosts: Sequence[str] = (),
                     changed: list[int] | None = None) -> Saved:
    """:func:`editing.create_objective`, then the searches ``lines[i]`` of KR slot ``i``;
    the ids of KRs with a new search are appended to ``changed`` (to run them now)."""
    changed = [] if changed is None else changed
    specs = {i: check_line(lines[i] if i < len(lines) else None, d.kr_type, f"kr{i}.query")
             for i, d in enumerate(krs)}
    saved = editing.create_objective(session=session, workspace_id=workspace_id, actor=actor,
                                     actor_label=actor_label, objective=objective, krs=krs,
                                     now=now)
    # The KRs were created in slot order, skipping empty slots after the first.
    slots = [i for i, d in enumerate(krs) if not (d.empty and i > 0)]
    made = session.scalars(select(KeyResult).join(
        Objective, Objective.id == KeyResult.objective_id).where(
        Objective.workspace_id == workspace_id, Objective.key == saved.key)
        .order_by(KeyResult.position, KeyResult.id)).all()
    for slot, kr in zip(slots, made, strict=False):
        if specs.get(slot) is not None:
            _set(session, workspace_id, kr, specs[slot], actor, actor_label, now,
                 gitlab_hosts, f"kr{slot}.query", changed)
    return saved


def edit_kr(*, session: Session, workspace_id: int, actor: Principal, actor_label: str,
            key: str, draft: KRDraft, line: str | None, line_given: bool, now: datetime,
            gitlab_hosts: Sequence[str] = (), changed: list[int] | None = None) -> Saved:
    """:func:`editing.edit_kr`, then the search: set, changed, or cleared by an empty line
    (``line_given``: the form had the input); ``changed`` as for :func:`create_objective`."""
    changed = [] if changed is None else changed
    spec = check_line(line, draft.kr_type, "query") if line_given else None
    saved = editing.edit_kr(session=session, workspace_id=workspace_id, actor=actor,
                            actor_label=actor_label, key=key, draft=draft, now=now)
    if line_given:
        kr = session.scalars(select(KeyResult).where(KeyResult.workspace_id == workspace_id,
                                                     KeyResult.key == saved.key)).one()
        _set(session, workspace_id, kr, spec, actor, actor_label, now, gitlab_hosts, "query",
             changed)
    return saved


def line_for(*, session: Session, workspace_id: int, kr_key: str) -> str:
    """The KR's search as the modal shows it ("" for none)."""
    kr_id = session.scalar(select(KeyResult.id).where(KeyResult.workspace_id == workspace_id,
                                                      KeyResult.key == kr_key))
    row = queries.for_kr(session=session, workspace_id=workspace_id, kr_id=kr_id) \
        if kr_id is not None else None
    return "" if row is None else describe(stored(row.spec))
