"""How an import writes new rows: references and first check-ins go in with the rows.

On PostgreSQL the new rows' ids come from their sequences first, so an objective aligned to
another one (even one further down the file) and a KR's projection of the check-in the file
implies are written in the rows themselves: no UPDATE of rows just inserted. Both backends
store the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db import make_session_factory, unit_of_work
from app.models import AuditEntry, Checkin, KeyResult, Objective
from app.services.data.imports import load
from app.services.tenancy import workspaces
from tests.dbutil import migrated_engine, recorded_statements


def org_file() -> str:
    return yaml.safe_dump({
        "cycles": [{"name": "FY27-Q1", "start": "2026-02-01", "end": "2026-04-30"}],
        "people": [{"slack_id": "U0ANA", "name": "Ana"}, {"slack_id": "U0BEN", "name": "Ben"}],
        "teams": [{"id": "web", "name": "Web", "lead": "U0ANA"}],
        "objectives": [
            # Aligned to an objective further down the file, and to a KR of it.
            {"id": "child", "title": "Child", "team": "web", "aligned_to": "parent",
             "key_results": [
                 {"id": "c-1", "title": "Signups", "owner": "U0BEN", "start": 0, "target": 10,
                  "current": 4, "status": "yellow"},
                 {"id": "c-2", "title": "Launch", "type": "milestone", "current": True},
                 {"id": "c-3", "title": "Mood", "type": "manual", "score": 0.6},
                 {"id": "c-4", "title": "Untouched", "start": 0, "target": 5}]},
            {"id": "grandchild", "title": "Grandchild", "aligned_to": "parent/p-1",
             "key_results": [{"id": "g-1", "title": "Calls", "start": 0, "target": 3}]},
            {"id": "parent", "title": "Parent", "team": "web",
             "key_results": [{"id": "p-1", "title": "Revenue", "start": 0, "target": 100,
                              "current": 25}]},
        ],
    })


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    with migrated_engine(request.param, tmp_path) as eng:
        yield eng


def run(engine: Engine, text: str, now: datetime) -> tuple[load.ImportSummary, list[str]]:
    with recorded_statements(engine) as statements, \
            unit_of_work(make_session_factory(engine)) as session:
        ws = workspaces.default_workspace(session=session, now=now)
        summary = load.import_text(session=session, workspace=ws, text=text, now=now)
    return summary, statements


def stored(session: Session) -> dict[str, Any]:
    objectives = {o.id: o for o in session.scalars(select(Objective))}
    krs = {k.id: k for k in session.scalars(select(KeyResult))}
    return {
        "aligned": {o.key: (objectives[o.aligned_objective_id].key
                            if o.aligned_objective_id else None,
                            krs[o.aligned_kr_id].key if o.aligned_kr_id else None)
                    for o in objectives.values()},
        "krs": {k.key: (k.current_value, k.manual_score, k.declared_status, k.state,
                        k.last_checkin_at is not None) for k in krs.values()},
        "checkins": sorted((krs[c.kr_id].key, c.value, c.score, c.status, c.source)
                           for c in session.scalars(select(Checkin))),
        "ids_in_file_order": [k.key for k in sorted(krs.values(), key=lambda k: k.id)],
        "audited": sorted((a.action, a.subject_key) for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "checkin"))),
    }


def test_new_rows_carry_their_alignment_and_first_checkins(engine: Engine, now: datetime) -> None:
    summary, _ = run(engine, org_file(), now)
    assert summary.checkins == 4
    with Session(engine) as session:
        got = stored(session)
    assert got["aligned"] == {"child": ("parent", None), "grandchild": (None, "p-1"),
                              "parent": (None, None)}
    assert got["krs"] == {
        "c-1": (4.0, None, "yellow", "active", True),
        "c-2": (1.0, None, None, "done", True),  # a milestone done by the file's check-in
        "c-3": (None, 0.6, None, "active", True),
        "c-4": (None, None, None, "active", False),
        "g-1": (None, None, None, "active", False),
        "p-1": (25.0, None, None, "active", True),
    }
    assert got["checkins"] == [("c-1", 4.0, 0.4, "yellow", "import"),
                               ("c-2", 1.0, 1.0, None, "import"),
                               ("c-3", None, 0.6, None, "import"),
                               ("p-1", 25.0, 0.25, None, "import")]
    assert got["audited"] == [("checkin", "c-1"), ("checkin", "c-2"), ("checkin", "c-3"),
                              ("checkin", "p-1")]
    assert got["ids_in_file_order"] == ["c-1", "c-2", "c-3", "c-4", "g-1", "p-1"]
    again, _ = run(engine, org_file(), now)
    assert not again.changed


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_fresh_import_updates_none_of_the_rows_it_inserts(engine: Engine,
                                                             now: datetime) -> None:
    _, statements = run(engine, org_file(), now)
    updates = [s.split(" SET ")[0] for s in statements if s.lstrip().upper().startswith("UPDATE")]
    # Only the one objective aligned to a KR waits for the KRs; nothing else is rewritten.
    assert updates == ["UPDATE objectives"]
