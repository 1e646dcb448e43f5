"""``okr export``: everything in a workspace with scores, statuses and full check-in history.

One gathering step (:func:`gather`, built on ``okrs.cycle_report``) feeds three formats:

* JSON (:func:`to_json`): ``workspace``, ``people``, ``teams``, ``cycles`` and ``objectives``;
  each objective carries its key results, each KR its check-ins, oldest first. Owners are
  exported as Slack ids (as the import file spells them) plus names.
* CSV (:func:`to_csv`): one row per key result with its scores; with ``checkins=True`` one
  row per check-in instead (the history, for spreadsheets).
* Markdown (:func:`to_markdown`): a readable tree per cycle.

A KR's ``status`` is its traffic light (the owner's declaration, else the suggestion from
pace), or ``paused`` / ``done`` when the KR is in that state; ``light`` is what people are
shown (``outdated`` when ``stale``, ``pending`` before the first check-in, the grade after the
cycle's end). ``due``, ``targets`` and a KR's saved search (``query``) are spelled as the
import file spells them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.domain import KRState, KRView, ObjectiveView
from app.models import (
    Checkin,
    Cycle,
    IssueLink,
    KeyResult,
    KRQuery,
    Objective,
    Person,
    Team,
    Workspace,
)
from app.services.data.csv_cells import csv_cell
from app.services.data.jsontext import dumps_indented
from app.services.gcpause import paused_gc
from app.services.okrs import cycles as cycles_service
from app.services.okrs import report as okrs
from app.services.okrs.report import CycleReport


@dataclass
class ExportData:
    workspace: Workspace
    now: datetime
    reports: list[CycleReport]
    checkins: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    links: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    descriptions: dict[str, str | None] = field(default_factory=dict)
    people: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def kr_status(kr: KRView) -> str:
    return kr.state.value if kr.state != KRState.ACTIVE else kr.status.value


def _md_light(kr: KRView) -> str:
    return kr.state.value if kr.state != KRState.ACTIVE else kr.light.value


def gather(*, session: Session, workspace: Workspace, now: datetime, settings: ScoringSettings,
           cycle_names: list[str] | None = None) -> ExportData:
    """Score the chosen cycles (all by default, oldest first) and load their history."""
    with paused_gc():
        return _gather(session, workspace, now, settings, cycle_names)


def _gather(session: Session, workspace: Workspace, now: datetime, settings: ScoringSettings,
            cycle_names: list[str] | None) -> ExportData:
    ws_id = workspace.id
    query = select(Cycle).where(Cycle.workspace_id == ws_id).order_by(Cycle.start_date, Cycle.id)
    chosen = [cycles_service.by_name(session=session, workspace_id=ws_id, name=n)
              for n in cycle_names] if cycle_names else list(session.scalars(query))
    today = cycles_service.org_today(workspace, now)
    reports = [okrs.cycle_report(session=session, workspace_id=ws_id, cycle=c, today=today,
                                 now=now, settings=settings) for c in chosen]
    data = ExportData(workspace=workspace, now=now, reports=reports)
    people = {p.id: p for p in session.scalars(select(Person).where(Person.workspace_id == ws_id)
                                               .order_by(Person.slack_id))}
    data.people = [{"slack_id": p.slack_id, "name": p.name, "tz": p.tz, "active": p.active,
                    **_week(p.work_days, p.work_hours, p.holiday_calendar)}
                   for p in people.values()]
    data.teams = _teams(session, ws_id, people)
    cycle_ids = [c.id for c in chosen]
    if not cycle_ids:
        return data
    in_cycles = select(Objective.id).where(Objective.workspace_id == ws_id,
                                           Objective.cycle_id.in_(cycle_ids))
    data.descriptions = dict(session.execute(
        select(Objective.key, Objective.description).where(Objective.id.in_(in_cycles))
    ).tuples().all())
    krs_in_cycles = select(KeyResult.id).where(KeyResult.workspace_id == ws_id,
                                               KeyResult.objective_id.in_(in_cycles))
    kr_key = {kr_id: key for kr_id, key in session.execute(
        select(KeyResult.id, KeyResult.key).where(KeyResult.id.in_(krs_in_cycles)))}
    data.checkins = _checkins(session, ws_id, krs_in_cycles, kr_key, people)
    data.links = _links(session, ws_id, krs_in_cycles, kr_key)
    data.queries = {kr_key[kr_id]: spec for kr_id, spec in session.execute(
        select(KRQuery.kr_id, KRQuery.spec).where(KRQuery.workspace_id == ws_id,
                                                  KRQuery.kr_id.in_(krs_in_cycles)))}
    return data


def _teams(session: Session, ws_id: int, people: dict[int, Person]) -> list[dict[str, Any]]:
    teams = list(session.scalars(select(Team).where(Team.workspace_id == ws_id)
                                 .order_by(Team.id)))
    team_key = {t.id: t.key for t in teams}
    return [{
        "id": t.key, "name": t.name, "kind": t.kind,
        "parent": team_key.get(t.parent_id) if t.parent_id else None,
        "lead": people[t.lead_id].slack_id if t.lead_id in people else None,
        "members": sorted(people[m.person_id].slack_id for m in t.members
                          if m.person_id in people),
        "channel": t.channel_id,
        **({"members_from": t.members_from} if t.members_from else {}),
        **_week(t.work_days, t.work_hours, t.holiday_calendar),
        **({} if t.digest_names else {"digest": {"names": False}}),
    } for t in teams]


def _week(days: list[str] | None, hours: str | None, calendar: str | None) -> dict[str, Any]:
    """The working-week keys that are set, as the import file spells them."""
    return {k: v for k, v in (("work_days", days), ("work_hours", hours),
                              ("holidays", calendar)) if v}


def _checkins(session: Session, ws_id: int, krs: Select[tuple[int]], kr_key: dict[int, str],
              people: dict[int, Person]) -> dict[str, list[dict[str, Any]]]:
    """Every check-in of the given KRs, by KR key, oldest first.

    A correction says what it ``corrects`` (the superseded entry's ``at``) and whether it is
    an ``undo``; the entry it superseded carries ``superseded_by`` (the correction's ``at``).
    """
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    session.flush()  # Core statement below (plain rows are much cheaper than ORM objects)
    rows = session.connection().execute(
        select(Checkin.kr_id, Checkin.at, Checkin.author_id, Checkin.value, Checkin.score,
               Checkin.status, Checkin.confidence, Checkin.note, Checkin.blockers,
               Checkin.source, Checkin.id, Checkin.supersedes_id, Checkin.undone)
        .where(Checkin.workspace_id == ws_id, Checkin.kr_id.in_(krs))
        .order_by(Checkin.kr_id, Checkin.at, Checkin.id)).all()
    at_of = {r.id: r.at.isoformat() for r in rows}
    by = {r.supersedes_id: r.at.isoformat() for r in rows if r.supersedes_id is not None}
    for (kr_id, at, author_id, value, score, status, confidence, note, blockers, source,
         cid, supersedes_id, undone) in rows:
        author = people.get(author_id) if author_id else None
        history[kr_key[kr_id]].append({
            "at": at.isoformat(), "author": author.slack_id if author else None,
            "author_name": author.name if author else None, "value": value,
            "score": _r(score), "status": status, "confidence": confidence,
            "note": note, "blockers": blockers, "source": source,
            "superseded_by": by.get(cid), "corrects": at_of.get(supersedes_id or 0),
            "undo": bool(undone),
        })
    return dict(history)


def _links(session: Session, ws_id: int, krs: Select[tuple[int]],
           kr_key: dict[int, str]) -> dict[str, list[dict[str, Any]]]:
    """The linked issues of the given KRs, by KR key."""
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in session.scalars(select(IssueLink).where(
            IssueLink.workspace_id == ws_id, IssueLink.kr_id.in_(krs))
            .order_by(IssueLink.id)):
        links[kr_key[link.kr_id]].append({
            "url": link.url, "provider": link.provider, "kind": link.kind,
            "number": link.number, "weight": link.weight, "closed": link.closed,
            "from_query": link.query_id is not None,
            "left_at": link.left_at.isoformat() if link.left_at else None})
    return dict(links)


def _kr_json(kr: KRView, data: ExportData) -> dict[str, Any]:
    # Enum members go in as they are (StrEnum: the JSON writer writes their text), as
    # ``.value`` costs about half a microsecond each in Python 3.11.
    return {
        "id": kr.key, "title": kr.title, "owner": kr.owner_slack_id, "owner_name": kr.owner_name,
        "type": kr.kr_type, "start": kr.start, "target": kr.target,
        "current": kr.current, "unit": kr.unit, "weight": kr.weight,
        "progress": _r(kr.progress), "score": _r(kr.score),
        "status": kr.state if kr.state != KRState.ACTIVE else kr.status,
        "declared_status": kr.declared_status,
        "suggested_status": kr.suggested_status, "state": kr.state,
        "trend": kr.trend, "stale": kr.stale, "mismatch": kr.mismatch,
        "light": kr.light, "grade": kr.grade,
        "due": kr.due.isoformat() if kr.due else None,
        "targets": [{"on": t.on.isoformat(), "value": t.value} for t in kr.targets],
        "last_checkin_at": kr.last_checkin_at.isoformat() if kr.last_checkin_at else None,
        "blockers": kr.last_blockers, "links": data.links.get(kr.key, []),
        "query": data.queries.get(kr.key),
        "checkins": data.checkins.get(kr.key, []),
    }


def _objective_json(o: ObjectiveView, data: ExportData) -> dict[str, Any]:
    aligned = f"{o.aligned_to}/{o.aligned_to_kr}" if o.aligned_to_kr else o.aligned_to
    return {
        "id": o.key, "title": o.title, "cycle": o.cycle, "team": o.team_key,
        "team_name": o.team_name, "owner": o.owner_slack_id, "owner_name": o.owner_name,
        "score": _r(o.score), "status": o.status, "light": o.light,
        "grade": o.grade, "aligned_to": aligned,
        "depth": o.depth, "visibility": o.visibility, "commitment": o.commitment,
        "development": o.is_development, "draft": o.is_draft, "rollup": o.rollup_mode,
        "description": data.descriptions.get(o.key),
        "key_results": [_kr_json(kr, data) for kr in o.key_results],
    }


def to_dict(data: ExportData) -> dict[str, Any]:
    ws = data.workspace
    return {
        "exported_at": data.now.isoformat(),
        "workspace": {"name": ws.name, "fiscal_year_start_month": ws.fiscal_year_start_month,
                      "timezone": ws.timezone,
                      **_week(ws.work_days, ws.work_hours, ws.holiday_country)},
        "people": data.people,
        "teams": data.teams,
        "cycles": [{
            "name": r.cycle.name, "start": r.cycle.start.isoformat(),
            "end": r.cycle.end.isoformat(), "phase": r.cycle.phase.value, "day": r.cycle.day,
            "total_days": r.cycle.total_days, "expected": _r(r.cycle.expected),
            "company_score": _r(r.company_score),
            "team_scores": {k: _r(v) for k, v in sorted(r.team_scores.items())},
        } for r in data.reports],
        "objectives": [_objective_json(o, data) for r in data.reports for o in r.objectives],
    }


def to_json(data: ExportData) -> str:
    with paused_gc():  # a dict per KR and check-in, all kept until written
        return dumps_indented(to_dict(data)) + "\n"  # json.dumps(indent=2)'s text, faster


KR_COLUMNS = ["cycle", "objective_id", "objective_title", "objective_score",
              "objective_status", "team", "kr_id", "kr_title", "owner", "owner_name", "type",
              "start", "target", "current", "unit", "weight", "progress", "score", "status",
              "declared_status", "suggested_status", "trend", "stale", "last_checkin_at",
              "checkins"]
CHECKIN_COLUMNS = ["cycle", "objective_id", "kr_id", "at", "author", "author_name", "value",
                   "score", "status", "confidence", "note", "blockers", "source",
                   "superseded_by", "corrects", "undo"]


def to_csv(data: ExportData, *, checkins: bool = False) -> str:
    """One row per KR, or with ``checkins`` one row per check-in (oldest first per KR);
    text cells that a spreadsheet would run as formulas stay text (:func:`csv_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CHECKIN_COLUMNS if checkins else KR_COLUMNS)
    for report in data.reports:
        for o in report.objectives:
            for kr in o.key_results:
                history = data.checkins.get(kr.key, [])
                if checkins:
                    for c in history:
                        writer.writerow([csv_cell(x) for x in (
                            o.cycle, o.key, kr.key, *(c[k] for k in CHECKIN_COLUMNS[3:]))])
                    continue
                writer.writerow([csv_cell(x) for x in (
                    o.cycle, o.key, o.title, _r(o.score), o.status.value, o.team_key or "",
                    kr.key, kr.title, kr.owner_slack_id or "", kr.owner_name or "",
                    kr.kr_type.value, kr.start, kr.target, kr.current, kr.unit or "", kr.weight,
                    _r(kr.progress), _r(kr.score), kr_status(kr),
                    kr.declared_status.value if kr.declared_status else "",
                    kr.suggested_status.value, kr.trend, kr.stale,
                    kr.last_checkin_at.isoformat() if kr.last_checkin_at else "", len(history),
                )])
    return out.getvalue()


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def _md(text: str) -> str:
    return text.translate(_MD_SPECIAL)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _kr_value(kr: KRView) -> str:
    unit = f" {kr.unit}" if kr.unit else ""
    if kr.kr_type.needs_start_and_target:
        return f"{_num(kr.current if kr.current is not None else kr.start)}{unit} " \
               f"({_num(kr.start)} → {_num(kr.target)})"
    if kr.kr_type.needs_threshold:
        side = "≥" if kr.kr_type.value == "above" else "≤"
        return f"{_num(kr.current)}{unit} (target {side} {_num(kr.target)})"
    if kr.kr_type.value == "percent":
        return f"{_num(kr.current)}%"
    if kr.kr_type.value == "milestone":
        return "done" if kr.current == 1.0 else "not done"
    return kr.kr_type.value


_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def to_markdown(data: ExportData) -> str:
    """A readable tree per cycle: objectives (nested by alignment) with their KRs."""
    ws = data.workspace
    lines = [f"# OKRs: {_md(ws.name)}", "",
             f"Exported {data.now.strftime('%Y-%m-%d %H:%M')} UTC.", ""]
    for report in data.reports:
        c = report.cycle
        lines += [f"## {_md(c.name)} ({c.start.isoformat()} to {c.end.isoformat()})", ""]
        company = f" · company score **{report.company_score:.2f}**" \
            if report.company_score is not None else ""
        lines += [f"Day {c.day} of {c.total_days} · expected progress {c.expected:.2f}"
                  f"{company}", ""]
        names = {o.team_key: o.team_name for o in report.objectives if o.team_key}
        if report.team_scores:
            lines += ["Team scores: " + ", ".join(
                f"{_md(names.get(k) or k)} {v:.2f}" for k, v in sorted(report.team_scores.items())
            ), ""]
        if not report.objectives:
            lines += ["_No objectives in this cycle._", ""]
        for o in report.objectives:
            pad = "  " * o.depth
            who = ", ".join(_md(x) for x in (o.owner_name, o.team_name) if x)
            tags = "".join(f" · {t}" for t, on in (("private", o.visibility.value == "private"),
                                                   ("aspirational",
                                                    o.commitment.value == "aspirational"),
                                                   ("draft", o.is_draft)) if on)
            lines.append(f"{pad}- **{_md(o.title)}** `{o.key}` · {o.score:.2f} · "
                         f"{o.light.value.upper()}{f' · {who}' if who else ''}{tags}")
            for kr in o.key_results:
                since = f"no update since {kr.last_checkin_at.date().isoformat()}" \
                    if kr.last_checkin_at else "no check-in yet"
                flags = "".join(f" · {f}" for f in ((since if kr.stale else ""),
                                                    (kr.mismatch or "")) if f)
                owner = f" · {_md(kr.owner_name)}" if kr.owner_name else ""
                lines.append(f"{pad}  - `{kr.key}` {_md(kr.title)}: {_kr_value(kr)} · "
                             f"{kr.score:.2f} · {_md_light(kr)} {_ARROWS[kr.trend]}{owner}{flags}")
                if kr.last_note:
                    lines.append(f"{pad}    - note: {_md(kr.last_note)}")
                if kr.last_blockers:
                    lines.append(f"{pad}    - blockers: {_md(kr.last_blockers)}")
        lines.append("")
    return "\n".join(lines)
