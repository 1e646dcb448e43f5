"""okr import refuses bad files: every problem named by path and reason, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.services.data.imports import load
from app.services.tenancy import workspaces
from tests.services.helpers import completed_example, counts, dump

Doc = dict[str, Any]


def _kr(doc: Doc, objective: int = 1, kr: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = doc["objectives"][objective]["key_results"][kr]
    return result


def _set(fn: Callable[[Doc], None]) -> Callable[[Doc], Doc]:
    def apply(doc: Doc) -> Doc:
        fn(doc)
        return doc
    return apply


CASES: list[tuple[str, Callable[[Doc], Doc], list[str]]] = [
    ("unknown key", _set(lambda d: d["objectives"][1].update(colour="blue")),
     ["objectives[1].colour: unknown key"]),
    ("unknown top-level key", _set(lambda d: d.update(goals=[])),
     ["goals: unknown key (expected one of settings, cycles, people, teams, objectives)"]),
    ("missing title", _set(lambda d: d["objectives"][1].pop("title")),
     ["objectives[1].title: required"]),
    ("missing KR id", _set(lambda d: _kr(d).pop("id")),
     ["objectives[1].key_results[0].id: required"]),
    ("target equals start", _set(lambda d: _kr(d).update(target=14)),
     ["objectives[1].key_results[0].target: equals start"]),
    ("decrease target above start", _set(lambda d: _kr(d).update(target=20)),
     ["objectives[1].key_results[0].target: is above start; a decrease KR needs target < start "
      "(use type: increase)"]),
    ("increase without start", _set(lambda d: _kr(d).update(type="increase", start=None)),
     ["objectives[1].key_results[0].start: required for an increase KR"]),
    ("above without threshold", _set(lambda d: _kr(d, kr=1).update(type="above")),
     ["objectives[1].key_results[1].target: required for an above KR (the threshold)"]),
    ("milestone with a target", _set(lambda d: _kr(d, kr=1).update(target=3)),
     ["objectives[1].key_results[1].target: not used by a milestone KR"]),
    ("milestone current not 0/1", _set(lambda d: _kr(d, kr=1).update(current=0.5)),
     ["objectives[1].key_results[1].current: a milestone is done (1) or not (0)"]),
    ("bad tz", _set(lambda d: d["people"][0].update(tz="Mars/Olympus")),
     ["people[0].tz: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)"]),
    ("bad org tz", _set(lambda d: d["settings"].update(timezone="CEST+1")),
     ["settings.timezone: unknown time zone 'CEST+1' (use an IANA name like Europe/Berlin)"]),
    ("unknown owner", _set(lambda d: d["objectives"][1].update(owner="U0NOBODY")),
     ["objectives[1].owner: unknown person 'U0NOBODY'"]),
    ("unknown KR owner", _set(lambda d: _kr(d).update(owner="U0NOBODY")),
     ["objectives[1].key_results[0].owner: unknown person 'U0NOBODY'"]),
    ("bad slack id", _set(lambda d: d["people"].append({"slack_id": "ada"})),
     ["people[2].slack_id: must be a Slack user id like U012AB3CD"]),
    ("unknown aligned_to", _set(lambda d: d["objectives"][1].update(aligned_to="nowhere")),
     ["objectives[1].aligned_to: unknown objective 'nowhere'"]),
    ("unknown aligned KR",
     _set(lambda d: d["objectives"][1].update(aligned_to="company-growth/k9")),
     ["objectives[1].aligned_to: unknown key result 'company-growth/k9'"]),
    ("aligned to itself", _set(lambda d: d["objectives"][0].update(aligned_to="company-growth")),
     ["objectives[0].aligned_to: an objective cannot align to itself"]),
    ("aligned KR of another objective",
     _set(lambda d: d["objectives"][1].update(aligned_to="company-growth/kr1")),
     ["objectives[1].aligned_to: key result 'kr1' belongs to objective 'eng-onboarding', "
      "not 'company-growth'"]),
    ("unknown cycle", _set(lambda d: d["objectives"][1].update(cycle="FY99-Q9")),
     ["objectives[1].cycle: unknown cycle 'FY99-Q9'"]),
    ("unknown parent team", _set(lambda d: d["teams"][1].update(parent="nope")),
     ["teams[1].parent: unknown team 'nope'"]),
    ("team loop", _set(lambda d: d["teams"][0].update(parent="eng")),
     ["teams[0].parent: team loop company -> eng -> company",
      "teams[1].parent: team loop eng -> company -> eng"]),
    ("duplicate ids", _set(lambda d: d["objectives"].append(dict(d["objectives"][0]))),
     ["objectives[2].id: duplicate id 'company-growth' (first at objectives[0].id)"]),
    ("duplicate KR ids", _set(lambda d: _kr(d, kr=1).update(id="kr1")),
     ["objectives[1].key_results[1].id: duplicate key result id 'kr1' "
      "(first at objectives[1].key_results[0].id)"]),
    ("bad weight", _set(lambda d: _kr(d).update(weight=0)),
     ["objectives[1].key_results[0].weight: must be greater than 0"]),
    ("weight not a number", _set(lambda d: _kr(d).update(weight="heavy")),
     ["objectives[1].key_results[0].weight: must be a number"]),
    ("bad schedule time", _set(lambda d: d["teams"][1]["checkin"].update(time="25:00")),
     ['teams[1].checkin.time: must be "HH:MM" (24-hour, e.g. "09:30")']),
    ("unquoted schedule time", _set(lambda d: d["teams"][1]["checkin"].update(time=600)),
     ['teams[1].checkin.time: must be "HH:MM" in quotes (unquoted, YAML reads 10:00 as a number)']),
    ("bad schedule day", _set(lambda d: d["teams"][1]["digest"].update(day="friday")),
     ["teams[1].digest.day: 'friday' is not a day (use mon, tue, wed, thu, fri, sat, sun)"]),
    ("bad cadence", _set(lambda d: d["teams"][1]["digest"].update(cadence="daily")),
     ["teams[1].digest.cadence: must be one of 'weekly', 'biweekly', 'every_3_weeks', "
      "'every_4_weeks', 'monthly'"]),
    ("nth on a weekly cadence", _set(lambda d: d["teams"][1]["digest"].update(nth=1)),
     ["teams[1].digest: nth and day_of_month only apply to a monthly cadence"]),
    ("cycle ends before it starts", _set(lambda d: d["cycles"][0].update(end="2026-01-01")),
     ["cycles[0].end: is before start (2026-02-01)"]),
    ("bad date", _set(lambda d: d["cycles"][0].update(start="soon")),
     ["cycles[0].start: must be a date (YYYY-MM-DD)"]),
    ("bad link", _set(lambda d: _kr(d, kr=2)["links"].append("https://example.com/x/issues/1")),
     ["objectives[1].key_results[2].links[2]: not a link to a GitLab issue or merge request, "
      "or a GitHub issue or pull request"]),
    ("bad KR type", _set(lambda d: _kr(d).update(type="kpi")),
     ["objectives[1].key_results[0].type: must be one of 'increase', 'decrease', 'above', "
      "'below', 'percent', 'milestone', 'manual', 'issues', 'children'"]),
    ("bad holiday country", _set(lambda d: d["settings"].update(holidays="XX")),
     ["settings.holidays: unknown country code 'XX' (ISO 3166, e.g. DE)"]),
    ("bad fiscal month", _set(lambda d: d["settings"].update(fiscal_year_start_month=13)),
     ["settings.fiscal_year_start_month: must be at most 12"]),
    ("objectives not a list", _set(lambda d: d.update(objectives={"id": "x"})),
     ["objectives: must be a list"]),
    ("due on a measured KR", _set(lambda d: _kr(d).update(due=date(2026, 3, 1))),
     ["objectives[1].key_results[0].due: only milestones have a due date (this is decrease)"]),
    ("milestone due after the cycle", _set(lambda d: _kr(d, kr=1).update(due=date(2026, 6, 1))),
     ["objectives[1].key_results[1].due: is outside the cycle FY27-Q1 (2026-02-01 to "
      "2026-04-30)"]),
    ("targets not increasing", _set(lambda d: _kr(d).update(targets=[
        {"on": date(2026, 3, 1), "value": 10}, {"on": date(2026, 3, 1), "value": 8}])),
     ["objectives[1].key_results[0].targets[1].on: must be after targets[0].on (2026-03-01)"]),
    ("target outside the cycle", _set(lambda d: _kr(d).update(targets=[
        {"on": date(2026, 3, 1), "value": 10}, {"on": date(2026, 5, 15), "value": 8}])),
     ["objectives[1].key_results[0].targets[1].on: is outside the cycle FY27-Q1 (2026-02-01 to "
      "2026-04-30)"]),
    ("targets on a milestone", _set(lambda d: _kr(d, kr=1).update(targets=[
        {"on": date(2026, 3, 1), "value": 1}])),
     ["objectives[1].key_results[1].targets: phased targets need an increase or decrease KR "
      "(this is milestone)"]),
    ("target without a value", _set(lambda d: _kr(d).update(targets=[{"on": date(2026, 3, 1)}])),
     ["objectives[1].key_results[0].targets[0].value: required"]),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_has_its_path_and_reason(session: Session, now, case: str,
                                              mutate: Callable[[Doc], Doc],
                                              expected: list[str]) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    before = counts(session)
    with pytest.raises(load.ImportInvalid) as info:
        load.import_text(session=session, workspace=ws, text=dump(mutate(completed_example())),
                            now=now)
    assert [str(p) for p in info.value.problems] == expected
    assert counts(session) == before  # nothing written


def test_yaml_syntax_error_names_line_and_column(session: Session, now) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    text = "cycles:\n  - {name: FY27-Q1, start: 2026-02-01\n  - {name: x}\n"
    with pytest.raises(load.ImportInvalid) as info:
        load.import_text(session=session, workspace=ws, text=text, now=now)
    assert [str(p) for p in info.value.problems] == [
        "line 3, column 5: YAML syntax error: did not find expected ',' or '}' "
        "(while parsing a flow mapping at line 2, column 5)"]


def test_all_problems_are_reported_together(session: Session, now) -> None:
    doc = completed_example()
    doc["people"][0]["tz"] = "Nowhere/Land"
    _kr(doc).update(weight=-1, target=14)
    doc["objectives"][1].update(owner="U0NOBODY", title="")
    ws = workspaces.default_workspace(session=session, now=now)
    before = counts(session)
    with pytest.raises(load.ImportInvalid) as info:
        load.import_text(session=session, workspace=ws, text=dump(doc), now=now)
    assert [str(p) for p in info.value.problems] == [
        "people[0].tz: unknown time zone 'Nowhere/Land' (use an IANA name like Europe/Berlin)",
        "objectives[1].key_results[0].target: equals start",
        "objectives[1].key_results[0].weight: must be greater than 0",
        "objectives[1].owner: unknown person 'U0NOBODY'",
        "objectives[1].title: must not be empty",
    ]
    assert counts(session) == before


def test_references_may_point_at_stored_rows(session: Session, now) -> None:
    """A second file can align to objectives and use people imported by an earlier one."""
    ws = workspaces.default_workspace(session=session, now=now)
    load.import_text(session=session, workspace=ws, text=dump(completed_example()), now=now)
    second = {"objectives": [{"id": "team-docs", "title": "Docs people finish",
                              "owner": "U0BOB", "team": "eng",
                              "aligned_to": "eng-onboarding/kr1",
                              "key_results": [{"id": "docs-1", "title": "Publish 10 guides",
                                               "type": "increase", "start": 0, "target": 10}]}]}
    summary = load.import_text(session=session, workspace=ws, text=dump(second), now=now)
    assert summary.counts["objectives"].created == 1
