"""A batch of new check-ins on PostgreSQL as one statement.

What ``record._write`` does for plain check-ins (no corrections), in one round trip: the
history rows (a used idempotency key inserts nothing), the KRs' projections and the audit
entries, each of the last two only for the rows actually inserted. The statement's text never
changes (the rows travel as one JSON parameter), so PostgreSQL prepares it once per
connection and SQLAlchemy compiles it once per process.

The caller computes every value in Python exactly as the ORM writer would (``_project``'s
rules, the audit's before and after); the KR objects in the session are then given the new
values as already stored, so that nothing is written twice and readers of the session see
them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.models import KeyResult
from app.models.base import UTCDateTime
from app.services.okrs.cache import KRWrite, stamp_part

_CTES = """
WITH v AS (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(
        ord integer, kr_id integer, value double precision, score double precision,
        status text, confidence text, note text, blockers text, idempotency_key text,
        project boolean, current_value double precision, manual_score double precision,
        declared_status text, state text, subject_key text, before jsonb, after jsonb)
), ins AS (
    INSERT INTO checkins (workspace_id, kr_id, author_id, at, value, score, status,
                          confidence, note, blockers, source, idempotency_key, supersedes_id,
                          undone)
    SELECT :workspace_id, v.kr_id, :author_id, :at, v.value, v.score, v.status, v.confidence,
           v.note, v.blockers, :source, v.idempotency_key, NULL, false
    FROM v ORDER BY v.ord
    ON CONFLICT (workspace_id, idempotency_key) DO NOTHING
    RETURNING id, kr_id, idempotency_key
), fresh AS (
    SELECT v.* FROM v JOIN ins ON ins.kr_id = v.kr_id
                              AND ins.idempotency_key = v.idempotency_key
), moved AS (
    UPDATE key_results AS k
    SET current_value = f.current_value, manual_score = f.manual_score,
        declared_status = f.declared_status, state = f.state, last_checkin_at = :at,
        updated_at = :at
    FROM fresh AS f
    WHERE k.id = f.kr_id AND k.workspace_id = :workspace_id AND f.project
      AND k.id = ANY(CAST(:kr_ids AS integer[]))  -- by primary key, not the workspace's KRs
    RETURNING k.id, (k.xmin::text)::bigint AS xmin, k.objective_id, k.position
), audited AS (
    INSERT INTO audit_log (workspace_id, at, actor_id, actor_label, action, subject_type,
                           subject_key, before, after)
    SELECT :workspace_id, :at, :author_id, :actor_label, 'checkin', 'key_result',
           f.subject_key, f.before, f.after
    FROM fresh AS f ORDER BY f.ord
)
"""
_WRITE = text(_CTES + "SELECT id, kr_id, idempotency_key FROM ins").bindparams(
    bindparam("at", type_=UTCDateTime()))
# The same, with what it does to the report cache's stamp. Every part of the statement reads
# one snapshot (the updates' effects are not visible to it): the workspace's KRs' part of the
# stamp before, the moved KRs' ``xmin`` before (snapshot) and after (RETURNING), and whether
# a moved KR left its objective or place (another transaction's update, re-applied to).
_WRITE_TRACKED = text(_CTES + f"""
SELECT id, kr_id, idempotency_key,
       {stamp_part("key_results", ":workspace_id")} AS krs_before,
       (SELECT count(*) FROM moved) AS moved,
       (SELECT coalesce(sum(m.xmin - (o.xmin::text)::bigint), 0)
        FROM moved AS m JOIN key_results AS o ON o.id = m.id) AS moved_by,
       (SELECT count(*) FROM moved AS m JOIN key_results AS o ON o.id = m.id
        WHERE o.objective_id IS DISTINCT FROM m.objective_id
           OR o.position IS DISTINCT FROM m.position) AS displaced
FROM ins
""").bindparams(bindparam("at", type_=UTCDateTime()))


@dataclass(frozen=True, slots=True)
class NewCheckin:
    """One validated answer with everything the statement writes for it."""

    kr: KeyResult
    key: str
    value: float | None
    score: float | None
    status: str | None
    confidence: str | None
    note: str | None
    blockers: str | None
    # The KR's projection after it (None: a back-dated check-in leaves the KR as it is).
    projection: dict[str, Any] | None
    before: dict[str, Any]
    after: dict[str, Any]


class Written(NamedTuple):
    rows: list[tuple[NewCheckin, int]]  # the items inserted now, in order, with their ids
    # With ``track``: what the statement did to the report cache's stamp (see okrs/cache.py);
    # None: what it changed does not show there (a back-dated check-in moves no KR), or a KR
    # it moved changed place meanwhile.
    change: KRWrite | None = KRWrite.NOTHING


def write(*, session: Session, workspace_id: int, items: Sequence[NewCheckin],
          author_id: int | None, actor_label: str, source: str, now: datetime,
          track: bool = False) -> Written:
    """Insert ``items`` (their idempotency keys unique among them).

    ``track``: also tell what the write does to the report cache's stamp (it costs a count
    of the workspace's KRs). A concurrent update of a KR it moves does not spoil that: READ
    COMMITTED re-applies the update to the newer row, whose ``xmin`` is replaced in turn."""
    session.flush()  # pending changes first: the statement below is not the unit of work's
    rows = [{"ord": i, "kr_id": c.kr.id, "value": c.value, "score": c.score,
             "status": c.status, "confidence": c.confidence, "note": c.note,
             "blockers": c.blockers, "idempotency_key": c.key,
             "project": c.projection is not None, **(c.projection or {}),
             "subject_key": c.kr.key, "before": c.before, "after": c.after}
            for i, c in enumerate(items)]
    result = session.execute(_WRITE_TRACKED if track else _WRITE, {
        "rows": json.dumps(rows), "kr_ids": sorted({c.kr.id for c in items}),
        "workspace_id": workspace_id, "author_id": author_id, "at": now, "source": source,
        "actor_label": actor_label}).all()
    inserted = {(kr_id, key): row_id for row_id, kr_id, key, *_ in result}
    written = [(c, inserted[(c.kr.id, c.key)]) for c in items if (c.kr.id, c.key) in inserted]
    for c, _ in written:
        if c.projection is not None:
            for name, value in {**c.projection, "last_checkin_at": now,
                                "updated_at": now}.items():
                set_committed_value(c.kr, name, value)
    return Written(written, _change(written, result) if track else KRWrite.NOTHING)


def _change(written: list[tuple[NewCheckin, int]], result: Sequence[Any]) -> KRWrite | None:
    if not result:
        return KRWrite.NOTHING
    moved_krs = frozenset(c.kr.id for c, _ in written if c.projection is not None)
    _, _, _, before, moved, moved_by, displaced = result[0]
    if len(moved_krs) != len(written) or moved != len(moved_krs) or displaced:
        return None
    count, _, total = str(before).partition("/")
    return KRWrite(str(before), f"{count}/{int(total) + int(moved_by)}", moved_krs)
