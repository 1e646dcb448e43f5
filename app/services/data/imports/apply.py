"""Writing a validated import file: set-based upserts keyed by the file's ids.

For each table: one query loads what is stored, new rows go in with one bulk insert, changed
rows with one bulk update by primary key, and every creation or change gets an audit entry
(actor ``import``) naming the fields as the file spells them, with before and after values.
Only fields present in the file are compared, so leaving a key out never clears it; nothing
missing from the file is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Cycle, Person, Team, TeamMember, Workspace
from app.services.data.bulk import bulk_insert, bulk_update
from app.services.data.imports.checks import Document

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

    @property
    def changed(self) -> bool:
        return self.settings_updated or self.checkins > 0 or any(
            c.created or c.updated for c in self.counts.values()
        )

    def lines(self) -> list[str]:
        out = [f"{kind.replace('_', ' '):<12} {c.created:>6} created {c.updated:>6} updated "
               f"{c.unchanged:>6} unchanged" for kind, c in self.counts.items()]
        out.append(f"{'check-ins':<12} {self.checkins:>6} recorded")
        if self.settings_updated:
            out.append("settings     updated")
        return out


def jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


@dataclass
class Context:
    """State shared by the steps of one import: ids by key per table, pending audit rows."""

    session: Session
    workspace: Workspace
    now: datetime
    summary: ImportSummary = field(default_factory=ImportSummary)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    audit_rows: list[dict[str, Any]] = field(default_factory=list)

    def keys(self, table: str) -> dict[int, str]:
        return {v: k for k, v in self.ids.get(table, {}).items()}

    def audit(self, action: str, subject: str, key: str, before: Mapping[str, Any] | None,
              after: Mapping[str, Any] | None) -> None:
        self.audit_rows.append({
            "workspace_id": self.workspace.id, "at": self.now, "actor_id": None,
            "actor_label": ACTOR, "action": action, "subject_type": subject,
            "subject_key": key,
            "before": {k: jsonable(v) for k, v in before.items()} if before is not None else None,
            "after": {k: jsonable(v) for k, v in after.items()} if after is not None else None,
        })

    def flush_audit(self) -> None:
        if self.audit_rows:
            bulk_insert(self.session, AuditEntry, self.audit_rows)
            self.audit_rows = []


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
           existing: Mapping[str, dict[str, Any]]) -> Upserted:
    result = Upserted()
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    counts = ctx.summary.counts[spec.kind]
    for entry in entries:
        stored = existing.get(entry.key)
        if stored is None:
            row = {"workspace_id": ctx.workspace.id, spec.key_column: entry.key,
                   **_to_columns(ctx, spec, entry.values)}
            row.update({stamp: ctx.now for stamp in spec.stamps})
            creates.append(row)
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
    if creates:
        bulk_insert(ctx.session, spec.model, creates)
    bulk_update(ctx.session, spec.model, updates)
    if creates or spec.kind not in ctx.ids:
        ctx.ids[spec.kind] = key_ids(ctx, spec.model, spec.key_column)
    return result


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


# --- settings, cycles, people, teams -------------------------------------------------------

CYCLE = Spec("cycles", "cycle", Cycle, "name",
             {"start": "start_date", "end": "end_date", "phase": "phase"})
PERSON = Spec("people", "person", Person, "slack_id",
              {"name": "name", "tz": "tz", "email": "email", "admin": "is_admin",
               "active": "active", "away_until": "away_until", "checkin": "checkin_schedule"},
              stamps=("created_at",))
TEAM = Spec("teams", "team", Team, "key",
            {"name": "name", "kind": "kind", "channel": "channel_id",
             "checkin": "checkin_schedule", "digest": "digest_schedule"},
            refs={"parent": ("parent_id", "teams"), "lead": ("lead_id", "people")},
            deferred=frozenset({"parent"}))

_SETTINGS = {"name": "name", "fiscal_year_start_month": "fiscal_year_start_month",
             "timezone": "timezone", "timeline": "timeline_preset",
             "holidays": "holiday_country", "holiday_dates": "holiday_dates",
             "checkin": "checkin_schedule", "digest": "digest_schedule"}


def apply_settings(ctx: Context, doc: Document) -> None:
    if doc.settings is None:
        return
    s = doc.settings
    ws = ctx.workspace
    wanted: dict[str, Any] = {}
    for name in s.model_fields_set:
        value = getattr(s, name)
        if name in ("checkin", "digest") and value is not None:
            value = value.stored()
        elif name == "holiday_dates" and value is not None:
            value = sorted(d.isoformat() for d in value)
        elif name == "holidays" and value is not None:
            value = value.upper()
        wanted[name] = value
    before = {n: getattr(ws, _SETTINGS[n]) for n in wanted
              if getattr(ws, _SETTINGS[n]) != wanted[n]}
    if not before:
        return
    after = {n: wanted[n] for n in before}
    for name, value in after.items():
        setattr(ws, _SETTINGS[name], value)
    ctx.session.flush()
    ctx.audit("import.update", "workspace", str(ws.id), before, after)
    ctx.summary.settings_updated = True


def _phase(start: date, end: date, today: date) -> str:
    if today < start:
        return "planning"
    return "active" if today <= end else "closed"


def apply_cycles(ctx: Context, doc: Document) -> None:
    today = ctx.now.date()
    entries = []
    for _, c in doc.cycles:
        values = {"start": c.start, "end": c.end,
                  "phase": c.phase or _phase(c.start, c.end, today)}
        given = {"start", "end"} | ({"phase"} if c.phase is not None else set())
        entries.append(Entry(c.name, values, frozenset(given)))
    upsert(ctx, CYCLE, entries, load_existing(ctx, CYCLE))


def apply_people(ctx: Context, doc: Document) -> None:
    default_tz = ctx.workspace.timezone or "UTC"
    entries = []
    for _, p in doc.people:
        values = {
            "name": p.name or p.slack_id, "tz": p.tz or default_tz, "email": p.email,
            "admin": bool(p.admin), "active": True if p.active is None else p.active,
            "away_until": p.away_until,
            "checkin": p.checkin.stored() if p.checkin is not None else None,
        }
        given = frozenset(p.model_fields_set - {"slack_id"})
        entries.append(Entry(p.slack_id, values, given))
    result = upsert(ctx, PERSON, entries, load_existing(ctx, PERSON))
    # Deactivation keeps its timestamp in step with the flag.
    stamps = [{"id": row_id, "deactivated_at": None if after["active"] else ctx.now}
              for row_id, _, after in result.updated if "active" in after]
    stamps += [{"id": ctx.ids["people"][e.key], "deactivated_at": ctx.now}
               for e in result.created if not e.values["active"]]
    bulk_update(ctx.session, Person, stamps)


def apply_teams(ctx: Context, doc: Document) -> None:
    ctx.ids.setdefault("teams", key_ids(ctx, Team, "key"))
    if not doc.teams:
        return
    team_key = ctx.keys("teams")
    person_key = ctx.keys("people")
    members: dict[str, set[str]] = {}
    for team_id, person_id in ctx.session.execute(
        select(TeamMember.team_id, TeamMember.person_id).where(
            TeamMember.workspace_id == ctx.workspace.id)
    ):
        members.setdefault(team_key[team_id], set()).add(person_key[person_id])
    existing = load_existing(ctx, TEAM)
    for key, values in existing.items():
        values["members"] = sorted(members.get(key, ()))
    entries = []
    for _, t in doc.teams:
        had = set(members.get(t.id, ()))
        values = {
            "name": t.name or t.id, "kind": t.kind or "team", "parent": t.parent,
            "lead": t.lead, "channel": t.channel,
            "checkin": t.checkin.stored() if t.checkin is not None else None,
            "digest": t.digest.stored() if t.digest is not None else None,
            # Additive: people already in the team stay when the file does not list them.
            "members": sorted(had | set(t.members or ())),
        }
        entries.append(Entry(t.id, values, frozenset(t.model_fields_set - {"id"})))
    result = upsert(ctx, TEAM, entries, existing)
    teams = ctx.ids["teams"]
    write_deferred(ctx, TEAM, result,
                   lambda _name, key: {"parent_id": teams[key] if key is not None else None})
    new_pairs = [
        {"workspace_id": ctx.workspace.id, "team_id": teams[t.id],
         "person_id": ctx.ids["people"][slack_id]}
        for _, t in doc.teams
        for slack_id in dict.fromkeys(t.members or ())
        if slack_id not in members.get(t.id, set())
    ]
    if new_pairs:
        bulk_insert(ctx.session, TeamMember, new_pairs)
