"""Writing a validated import file: set-based upserts keyed by the file's ids.

For each table: one query loads what is stored, new rows go in with one bulk insert, changed
rows with one bulk update by primary key, and every creation or change gets an audit entry
(actor ``import``) naming the fields as the file spells them, with before and after values.
Only fields present in the file are compared, so leaving a key out never clears it; nothing
missing from the file is deleted. The steps using this are in
:mod:`~app.services.data.imports.org` (settings, cycles, people, teams) and
:mod:`~app.services.data.imports.okrs`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Workspace
from app.services.data.bulk import bulk_insert, bulk_update, reserve_ids

ACTOR = "import"
KINDS = ("cycles", "people", "teams", "objectives", "key_results", "links")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportSummary:
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    checkins: int = 0
    settings_updated: bool = False
    queries: int = 0  # saved searches set, changed or cleared

    @property
    def changed(self) -> bool:
        return self.settings_updated or self.checkins > 0 or self.queries > 0 or any(
            c.created or c.updated for c in self.counts.values()
        )

    def lines(self) -> list[str]:
        out = [f"{kind.replace('_', ' '):<12} {c.created:>6} created {c.updated:>6} updated "
               f"{c.unchanged:>6} unchanged" for kind, c in self.counts.items()]
        out.append(f"{'check-ins':<12} {self.checkins:>6} recorded")
        if self.queries:
            out.append(f"{'searches':<12} {self.queries:>6} set or cleared")
        if self.settings_updated:
            out.append("settings     updated")
        return out


def jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _jsonable_values(values: Mapping[str, Any]) -> dict[str, Any]:
    # Most values are plain already: skip the call for them (50,000 audit rows per import).
    return {k: v if type(v) in _PLAIN else jsonable(v) for k, v in values.items()}


@dataclass
class Context:
    """State shared by the steps of one import: ids by key per table, pending audit rows."""

    session: Session
    workspace: Workspace
    now: datetime
    summary: ImportSummary = field(default_factory=ImportSummary)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    # Pending audit entries: (action, subject type, key, before, after), made rows as they
    # are written (an import of 30,000 KRs has 50,000 of them).
    audits: list[tuple[str, str, str, Mapping[str, Any] | None, Mapping[str, Any] | None]] = \
        field(default_factory=list)
    link_hosts: tuple[str, ...] = ("gitlab.com",)  # GitLab hosts links may point at

    def keys(self, table: str) -> dict[int, str]:
        return {v: k for k, v in self.ids.get(table, {}).items()}

    def audit(self, action: str, subject: str, key: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any] | None) -> None:
        self.audits.append((action, subject, key, before, after))

    def flush_audit(self) -> None:
        """Write the pending audit entries. Their rows are built while they are written: on
        PostgreSQL that work overlaps the database's inserting the rows before them."""
        if not self.audits:
            return
        common = {"workspace_id": self.workspace.id, "at": self.now, "actor_id": None,
                  "actor_label": ACTOR}
        rows = ({**common, "action": action, "subject_type": subject, "subject_key": key,
                 "before": _jsonable_values(before) if before is not None else None,
                 "after": _jsonable_values(after) if after is not None else None}
                for action, subject, key, before, after in self.audits)
        bulk_insert(self.session, AuditEntry, rows, columns=AUDIT_COLUMNS)
        self.audits = []


AUDIT_COLUMNS = ("workspace_id", "at", "actor_id", "actor_label", "action", "subject_type",
                 "subject_key", "before", "after")


@dataclass(frozen=True)
class Spec:
    """How one table maps to file fields.

    ``columns``: file name -> column. ``refs``: file name -> (column, id-map of the referenced
    table). ``deferred`` refs point at rows that may not exist yet when this table is written;
    the caller writes them later. ``stamps``: timestamp columns set on insert (and
    ``updated_at`` on update).
    """

    kind: str
    subject: str
    model: type[Any]
    key_column: str
    columns: Mapping[str, str]
    refs: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    deferred: frozenset[str] = frozenset()
    stamps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One entry of the file: values at file level (references as keys), and which of them
    the file actually gave (only those are compared with what is stored)."""

    key: str
    values: dict[str, Any]
    given: frozenset[str]


@dataclass
class Upserted:
    created: list[Entry] = field(default_factory=list)
    # (row id, entry, changed file-level values) for rows that changed.
    updated: list[tuple[int, Entry, dict[str, Any]]] = field(default_factory=list)
    # Keys of created rows whose deferred references went in with the row itself.
    resolved: set[str] = field(default_factory=set)


def load_existing(ctx: Context, spec: Spec) -> dict[str, dict[str, Any]]:
    """Stored rows of a table at file level: ``{key: {"id": .., name: value, ...}}``."""
    model = spec.model
    names = list(spec.columns) + list(spec.refs)
    cols = [getattr(model, spec.columns[n]) if n in spec.columns
            else getattr(model, spec.refs[n][0]) for n in names]
    reverse = {n: ctx.keys(spec.refs[n][1]) for n in spec.refs}
    out: dict[str, dict[str, Any]] = {}
    stmt = select(model.id, getattr(model, spec.key_column), *cols).where(
        model.workspace_id == ctx.workspace.id)
    for row in ctx.session.execute(stmt):
        values: dict[str, Any] = {"id": row[0]}
        for name, value in zip(names, row[2:], strict=True):
            values[name] = reverse[name].get(value) if name in reverse and value is not None \
                else value
        out[row[1]] = values
    return out


def _to_columns(ctx: Context, spec: Spec, values: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, value in values.items():
        if name in spec.columns:
            row[spec.columns[name]] = value
        elif name in spec.refs and name not in spec.deferred:
            column, table = spec.refs[name]
            row[column] = ctx.ids[table][value] if value is not None else None
    return row


def upsert(ctx: Context, spec: Spec, entries: Iterable[Entry],
           existing: Mapping[str, dict[str, Any]], *,
           early: Callable[[str, Any], dict[str, Any] | None] | None = None,
           extra: Mapping[str, dict[str, Any]] | None = None) -> Upserted:
    """Create and update one table's rows from the file's entries.

    On PostgreSQL new rows get their ids from the table's sequence before they are built,
    so ``ctx.ids`` knows them up front and ``early(name, value)`` may resolve a deferred
    reference into the new row itself (columns, or None to leave it to
    :func:`write_deferred`): a self-reference in one COPY is checked at its end. ``extra``
    adds columns to the new row of an entry key (values the file implies, such as a KR's
    projection of its first check-in), saving an UPDATE of the rows just written.
    """
    result = Upserted()
    updates: list[dict[str, Any]] = []
    counts = ctx.summary.counts[spec.kind]
    for entry in entries:
        stored = existing.get(entry.key)
        if stored is None:
            result.created.append(entry)
            ctx.audit("import.create", spec.subject, entry.key, None, entry.values)
            counts.created += 1
            continue
        before = {n: stored.get(n) for n in entry.given if stored.get(n) != entry.values[n]}
        if not before:
            counts.unchanged += 1
            continue
        after = {n: entry.values[n] for n in before}
        result.updated.append((stored["id"], entry, after))
        changed = _to_columns(ctx, spec, after)
        if changed:
            if "updated_at" in spec.stamps:
                changed["updated_at"] = ctx.now
            updates.append({"id": stored["id"], **changed})
        ctx.audit("import.update", spec.subject, entry.key, before, after)
        counts.updated += 1
    reserved = reserve_ids(ctx.session, spec.model, len(result.created))
    if reserved is not None or spec.kind not in ctx.ids:
        ids = ctx.ids[spec.kind] = {key: values["id"] for key, values in existing.items()}
        ids.update(zip((entry.key for entry in result.created), reserved or (), strict=False))
    if result.created:
        rows = [_new_row(ctx, spec, entry, result, early if reserved is not None else None,
                         extra) for entry in result.created]
        if reserved is not None:
            for row, row_id in zip(rows, reserved, strict=True):
                row["id"] = row_id
        if extra:  # one column set: rows go in as one batch, in file order, everywhere
            for key in set().union(*extra.values()):
                for row in rows:
                    row.setdefault(key, None)
        bulk_insert(ctx.session, spec.model, rows)
    bulk_update(ctx.session, spec.model, updates)
    if result.created and reserved is None:
        ctx.ids[spec.kind] = key_ids(ctx, spec.model, spec.key_column)
    return result


def _new_row(ctx: Context, spec: Spec, entry: Entry, result: Upserted,
             early: Callable[[str, Any], dict[str, Any] | None] | None,
             extra: Mapping[str, dict[str, Any]] | None) -> dict[str, Any]:
    row = {"workspace_id": ctx.workspace.id, spec.key_column: entry.key,
           **_to_columns(ctx, spec, entry.values)}
    row.update({stamp: ctx.now for stamp in spec.stamps})
    if early is not None:
        for name in spec.deferred:
            value = entry.values.get(name)
            cols = early(name, value) if value is not None else {}
            if cols is None:
                break
            row.update(cols)
        else:
            result.resolved.add(entry.key)
    if extra is not None and entry.key in extra:
        row.update(extra[entry.key])
    return row


def key_ids(ctx: Context, model: type[Any], key_column: str) -> dict[str, int]:
    """``{key: id}`` for every row of a table in the workspace."""
    stmt = select(getattr(model, key_column), model.id).where(
        model.workspace_id == ctx.workspace.id)
    return {key: row_id for key, row_id in ctx.session.execute(stmt)}


def write_deferred(ctx: Context, spec: Spec, result: Upserted,
                   resolve: Callable[[str, Any], dict[str, Any]]) -> None:
    """Write deferred references of created and changed rows; ``resolve(name, value)``
    returns the columns to set."""
    rows: list[dict[str, Any]] = []
    ids = ctx.ids[spec.kind]
    for entry in result.created:
        if entry.key in result.resolved:
            continue
        cols: dict[str, Any] = {}
        for name in spec.deferred:
            if entry.values.get(name) is not None:
                cols.update(resolve(name, entry.values[name]))
        if cols:
            rows.append({"id": ids[entry.key], **cols})
    for row_id, _entry, after in result.updated:
        cols = {}
        for name in spec.deferred & after.keys():
            cols.update(resolve(name, after[name]))
        if cols:
            rows.append({"id": row_id, **cols})
    bulk_update(ctx.session, spec.model, rows)
