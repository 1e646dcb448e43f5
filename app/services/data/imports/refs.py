"""References inside an import file, resolved against the file and the database.

A reference may point at an entry of the same file or at a row already in the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Cycle, KeyResult, Objective, Person, Team
from app.services.data.imports.checks import Document, Problem
from app.services.data.imports.kr_rules import (
    cycle_rules,
    key_result_rules,
    link_rules,
    query_rules,
    value_rules,
)


@dataclass
class Known:
    """Keys already stored in the workspace (one query per table)."""

    cycles: set[str] = field(default_factory=set)
    cycle_dates: dict[str, tuple[date, date]] = field(default_factory=dict)
    people: set[str] = field(default_factory=set)
    team_parent: dict[str, str | None] = field(default_factory=dict)
    objectives: set[str] = field(default_factory=set)
    kr_objective: dict[str, str] = field(default_factory=dict)


def load_known(session: Session, workspace_id: int) -> Known:
    known = Known()
    known.cycle_dates = {
        name: (start, end) for name, start, end in session.execute(
            select(Cycle.name, Cycle.start_date, Cycle.end_date)
            .where(Cycle.workspace_id == workspace_id))
    }
    known.cycles = set(known.cycle_dates)
    known.people = set(
        session.scalars(select(Person.slack_id).where(Person.workspace_id == workspace_id))
    )
    teams = session.execute(
        select(Team.id, Team.key, Team.parent_id).where(Team.workspace_id == workspace_id)
    ).all()
    team_key = {t.id: t.key for t in teams}
    known.team_parent = {t.key: team_key.get(t.parent_id) if t.parent_id else None for t in teams}
    obj_rows = session.execute(
        select(Objective.id, Objective.key).where(Objective.workspace_id == workspace_id)
    ).all()
    obj_key = {o.id: o.key for o in obj_rows}
    known.objectives = set(obj_key.values())
    known.kr_objective = {
        k: obj_key[o]
        for k, o in session.execute(
            select(KeyResult.key, KeyResult.objective_id).where(
                KeyResult.workspace_id == workspace_id
            )
        )
    }
    return known


def _team_loops(doc: Document, known: Known) -> list[Problem]:
    parent = dict(known.team_parent)
    parent.update({t.id: t.parent for _, t in doc.teams if "parent" in t.model_fields_set})
    out: list[Problem] = []
    for i, team in doc.teams:
        chain = [team.id]
        cur = parent.get(team.id)
        while cur is not None and cur in parent:
            chain.append(cur)
            if cur == team.id:
                out.append(Problem(f"teams[{i}].parent", "team loop " + " -> ".join(chain)))
                break
            if len(chain) > len(parent) + 1:
                break  # a loop further up; it is reported at its own entries
            cur = parent.get(cur)
    return out


def references(doc: Document, known: Known) -> list[Problem]:
    """Every reference that resolves neither in the file nor in the workspace."""
    cycles = known.cycles | {c.name for _, c in doc.cycles}
    people = known.people | {p.slack_id for _, p in doc.people}
    teams = set(known.team_parent) | {t.id for _, t in doc.teams}
    objectives = known.objectives | {o.id for _, o in doc.objectives}
    kr_objective = dict(known.kr_objective)
    objective_ids = {i: o.id for i, o in doc.objectives}
    kr_objective.update({kr.id: objective_ids[i] for i, _, kr in doc.key_results
                         if i in objective_ids})
    out: list[Problem] = []

    def person(path: str, slack_id: str | None) -> None:
        if slack_id is not None and slack_id not in people:
            out.append(Problem(path, f"unknown person {slack_id!r}"))

    for i, t in doc.teams:
        if t.parent is not None and t.parent not in teams:
            out.append(Problem(f"teams[{i}].parent", f"unknown team {t.parent!r}"))
        elif t.parent == t.id:
            out.append(Problem(f"teams[{i}].parent", "a team cannot be its own parent"))
        person(f"teams[{i}].lead", t.lead)
        for n, member in enumerate(t.members or ()):
            person(f"teams[{i}].members[{n}]", member)
    out += _team_loops(doc, known)

    for i, o in doc.objectives:
        path = f"objectives[{i}]"
        if o.cycle is not None and o.cycle not in cycles:
            out.append(Problem(f"{path}.cycle", f"unknown cycle {o.cycle!r}"))
        elif o.cycle is None and len(cycles) != 1:
            out.append(Problem(f"{path}.cycle", "required (no cycles are defined)" if not cycles
                               else f"required ({len(cycles)} cycles exist)"))
        if o.team is not None and o.team not in teams:
            out.append(Problem(f"{path}.team", f"unknown team {o.team!r}"))
        person(f"{path}.owner", o.owner)
        if o.aligned_to is not None:
            out += _alignment(f"{path}.aligned_to", o.id, o.aligned_to, objectives, kr_objective)
    dates = {**known.cycle_dates, **{c.name: (c.start, c.end) for _, c in doc.cycles}}
    objective_cycle = {i: o.cycle or (next(iter(cycles)) if len(cycles) == 1 else None)
                       for i, o in doc.objectives}
    for i, j, kr in doc.key_results:
        person(f"objectives[{i}].key_results[{j}].owner", kr.owner)
        cycle = objective_cycle.get(i)
        if cycle in dates and (kr.due is not None or kr.targets):
            out += cycle_rules(kr, f"objectives[{i}].key_results[{j}]", cycle, *dates[cycle])
    return out


def _alignment(path: str, own: str, ref: str, objectives: set[str],
               kr_objective: dict[str, str]) -> list[Problem]:
    obj, _, kr = ref.partition("/")
    if obj == own:
        return [Problem(path, "an objective cannot align to itself")]
    if obj not in objectives:
        return [Problem(path, f"unknown objective {obj!r}")]
    if kr:
        if kr not in kr_objective:
            return [Problem(path, f"unknown key result {ref!r}")]
        if kr_objective[kr] != obj:
            return [Problem(path, f"key result {kr!r} belongs to objective "
                                  f"{kr_objective[kr]!r}, not {obj!r}")]
    return []


def entry_rules(doc: Document) -> list[Problem]:
    """Rules within single entries that pydantic does not express (cycle dates, KR types)."""
    out: list[Problem] = []
    for i, c in doc.cycles:
        if c.end < c.start:
            out.append(Problem(f"cycles[{i}].end", f"is before start ({c.start.isoformat()})"))
    if doc.settings is not None and doc.settings.holidays is not None:
        out += _holiday_country(doc.settings.holidays)
    for i, p in doc.people:
        if p.away_from is not None and p.away_until is not None and p.away_from > p.away_until:
            out.append(Problem(f"people[{i}].away_from",
                               f"is after away_until ({p.away_until.isoformat()})"))
    for i, j, kr in doc.key_results:
        path = f"objectives[{i}].key_results[{j}]"
        out += key_result_rules(kr, path)
        out += link_rules(kr, path)
        out += query_rules(kr, path)
        out += value_rules(kr, path)
    return out


def _holiday_country(code: str) -> list[Problem]:
    # Imported here: the country tables load slowly and only files that name one need them.
    from app.calendar.workdays import country_problem

    problem = country_problem(code)
    return [Problem("settings.holidays", problem)] if problem else []
