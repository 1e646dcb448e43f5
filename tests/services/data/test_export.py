"""okr export: JSON keys and values, CSV rows, a Markdown tree."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource
from app.models import KeyResult, Person, Workspace
from app.services.checkins import record as checkins
from app.services.data import export as exports
from app.services.okrs import report
from tests.services.helpers import SMALL_ORG, run_import


def _data(session: Session, now) -> exports.ExportData:
    ws = session.scalars(select(Workspace)).one()
    return exports.gather(session=session, workspace=ws, now=now, settings=ScoringSettings())


def _setup(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    ws = session.scalars(select(Workspace)).one()
    kr = report.kr_by_key(session=session, workspace_id=ws.id, key="k1")
    ana = session.scalars(select(Person).where(Person.slack_id == "U0ANA")).one()
    assert kr is not None
    checkins.record(session=session, workspace_id=ws.id, kr=kr,
                    data=CheckinAnswer(kr_key="k1", value=7, status="yellow", note="Two signed",
                                      blockers="Legal"),
                    author_id=ana.id, actor_label="test", source=CheckinSource.SLACK,
                    now=now + timedelta(days=1))
    paused = session.scalars(select(KeyResult).where(KeyResult.key == "k2")).one()
    paused.state = "paused"
    session.flush()


def test_json_has_the_documented_keys_and_values(session: Session, now) -> None:
    _setup(session, now)
    doc = json.loads(exports.to_json(_data(session, now + timedelta(days=2))))

    assert {"cycles", "objectives", "people", "teams", "workspace"} <= doc.keys()
    assert doc["cycles"][0]["name"] == "FY27-Q1"
    o1 = next(o for o in doc["objectives"] if o["id"] == "o1")
    assert {"id", "title", "team", "owner", "score", "status", "key_results"} <= o1.keys()
    assert (o1["team"], o1["owner"], o1["owner_name"]) == ("co", "U0ANA", "Ana")
    k1 = next(k for k in o1["key_results"] if k["id"] == "k1")
    assert {"id", "title", "owner", "type", "current", "score", "status", "checkins",
            "progress", "target", "start", "unit", "weight"} <= k1.keys()
    assert (k1["type"], k1["current"], k1["score"], k1["status"]) == ("increase", 7, 0.7,
                                                                      "yellow")
    assert k1["blockers"] == "Legal"
    history = k1["checkins"]
    assert [c["value"] for c in history] == [5, 7]  # the import's, then Ana's
    assert {"at", "author", "value", "score", "status", "note"} <= history[1].keys()
    assert (history[1]["author"], history[1]["note"], history[1]["source"]) == (
        "U0ANA", "Two signed", "slack")
    assert history[0]["source"] == "import"
    k2 = next(k for k in o1["key_results"] if k["id"] == "k2")
    assert k2["status"] == "paused"
    k3 = next(k for o in doc["objectives"] for k in o["key_results"] if k["id"] == "k3")
    assert k3["status"] == "done"
    o2 = next(o for o in doc["objectives"] if o["id"] == "o2")
    assert o2["aligned_to"] == "o1"
    k7 = next(k for o in doc["objectives"] for k in o["key_results"] if k["id"] == "k7")
    assert k7["links"][0]["url"] == "https://github.com/acme/api/issues/1"
    assert all(0.0 <= o["score"] <= 1.0 for o in doc["objectives"])


def test_csv_one_row_per_kr_or_per_checkin(session: Session, now) -> None:
    _setup(session, now)
    data = _data(session, now + timedelta(days=2))
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(data))))
    assert len(rows) == 8 and rows[0]["kr_id"] == "k1"
    assert (rows[0]["score"], rows[0]["status"], rows[0]["checkins"]) == ("0.7", "yellow", "2")
    history = list(csv.DictReader(io.StringIO(exports.to_csv(data, checkins=True))))
    # Check-ins come from the import (one per KR with a value) plus Ana's.
    assert [r["kr_id"] for r in history].count("k1") == 2
    assert history[1]["note"] == "Two signed"


def test_markdown_is_a_readable_tree(session: Session, now) -> None:
    _setup(session, now)
    text = exports.to_markdown(_data(session, now + timedelta(days=2)))
    assert "## FY27-Q1 (2026-02-01 to 2026-04-30)" in text
    assert "- **Grow** `o1` · 0." in text
    assert "  - **Ship** `o2`" in text  # nested under o1
    assert "  - `k1` Customers from 0 to 10: 7 (0 → 10) · 0.70 · yellow" in text
    assert "blockers: Legal" in text


def test_export_of_an_empty_workspace(session: Session, now) -> None:
    ws = Workspace(name="empty", created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    data = exports.gather(session=session, workspace=ws, now=now, settings=ScoringSettings())
    assert json.loads(exports.to_json(data))["objectives"] == []
    assert exports.to_csv(data).count("\n") == 1  # the header
