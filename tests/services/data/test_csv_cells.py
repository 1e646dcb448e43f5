"""Every CSV cell a spreadsheet would run as a formula stays text; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import CheckinAnswer, CheckinSource
from app.models import KeyResult, Objective, Person, Workspace
from app.reports import csv as report_csv
from app.services.checkins import record as checkins
from app.services.data import export as exports
from app.services.data.csv_cells import csv_cell
from app.services.okrs import report
from tests.services.helpers import SMALL_ORG, run_import

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1)",
            "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_a_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert report_csv._cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -0.25, 3, 0.7, True])
def test_numbers_stay_numbers(value: object) -> None:
    assert csv_cell(value) == value
    assert csv_cell(None) == "" and csv_cell("plain") == "plain"


def test_okr_export_csv_neutralises_titles_names_and_notes(session: Session, now) -> None:
    run_import(session, SMALL_ORG, now)
    ws = session.scalars(select(Workspace)).one()
    session.scalars(select(Objective).where(Objective.key == "o1")).one().title = FORMULAS[0]
    session.scalars(select(KeyResult).where(KeyResult.key == "k1")).one().title = "+1+2"
    ana = session.scalars(select(Person).where(Person.slack_id == "U0ANA")).one()
    ana.name = "@SUM(A1)"  # display names come from Slack
    session.flush()
    kr = report.kr_by_key(session=session, workspace_id=ws.id, key="k1")
    assert kr is not None
    checkins.record(session=session, workspace_id=ws.id, kr=kr,
                    data=CheckinAnswer(kr_key="k1", value=-3, status="red", note="-2+3",
                                       blockers="=cmd|' /C calc'!A0"),
                    author_id=ana.id, actor_label="test", source=CheckinSource.SLACK,
                    now=now + timedelta(days=1))
    data = exports.gather(session=session, workspace=ws, now=now + timedelta(days=2),
                          settings=ScoringSettings())
    k1 = next(r for r in csv.DictReader(io.StringIO(exports.to_csv(data))) if r["kr_id"] == "k1")
    assert (k1["objective_title"], k1["kr_title"], k1["owner_name"]) == (
        "'" + FORMULAS[0], "'+1+2", "'@SUM(A1)")
    assert k1["current"] == "-3.0"  # a number, not text
    (row,) = [r for r in csv.DictReader(io.StringIO(exports.to_csv(data, checkins=True)))
              if r["note"] == "'-2+3"]
    assert row["blockers"] == "'=cmd|' /C calc'!A0" and row["author_name"] == "'@SUM(A1)"
    assert row["value"] == "-3.0"
