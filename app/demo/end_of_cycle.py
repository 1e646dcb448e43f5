"""The demo's end of the quarter: scoring, reflections, the retrospective and the HTML report.

``score_cycle`` (a setup phase) plays the scoring round with simulated answers, two days
after the quarter ends: the review opens (computed scores are snapshot), every KR owner
self-scores with evidence (some a little optimistic), leads agree final scores (lowering a
few, with a reason), owners reflect, and the cycle is closed. ``show_retrospective`` prints
the retrospective and ``write_report`` writes the standalone HTML report next to the demo
database. Answers are derived from the KR keys, so every run prints the same.
"""

from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.context import DemoContext
from app.domain import CyclePhase, KRType, KRView, ObjectiveView
from app.models import Cycle, Person, Workspace
from app.reports import html
from app.services.okrs import report as okrs
from app.services.review import reflections, retro
from app.services.review import report as reports
from app.services.review import scores as reviews
from app.services.review.scores import ScoreInput
from blocks.review_text import retro_text

EVIDENCE = (
    "Dashboard numbers for the last week of the quarter",
    "Weekly check-ins in Slack; the trend held over the last month",
    "Measured by the support team on the final Friday",
)
SHIPPED = "Shipped; release notes and the demo recording are in the wiki"
REASONS = (
    "The last two weeks were measured on a smaller sample",
    "Part of the gain came from a one-off campaign",
    "Agreed in our 1:1: strong progress, not yet done",
)
WORKED = ("Weekly check-ins kept the team honest", "Pairing with support on real tickets",
          "Small releases every week")
DID_NOT = ("We started the hardest key result too late", "Targets set before we had a baseline",
           "Too many objectives for a small team")
CARRY = ("Keep the weekly demo", "Instrument the funnel before setting targets",
         "Finish the migration runbook")


def _pick(key: str, n: int) -> int:
    return zlib.crc32(key.encode()) % n


def review_instant(ws: Workspace, cycle: Cycle) -> datetime:
    """10:00 (organisation time) two days after the cycle ends: the scoring day."""
    zone = ZoneInfo(ws.timezone or "UTC")
    return datetime.combine(cycle.end_date + timedelta(days=2), time(10), zone)


def self_score(kr: KRView) -> float:
    """The owner's score: the computed one to the nearest tenth, a third of them 0.1 higher."""
    base = round(kr.score * 10) / 10
    return min(1.0, base + 0.1) if _pick(kr.key, 3) == 0 else base


def evidence(kr: KRView) -> str:
    if kr.kr_type == KRType.MILESTONE and kr.current == 1:
        return SHIPPED
    return EVIDENCE[_pick(kr.key, len(EVIDENCE))]


def score_cycle(ctx: DemoContext) -> None:
    with ctx.session() as s:
        ws = ctx.workspace(s)
        cycle = ctx.cycle(s)
        at = review_instant(ws, cycle)
        today = at.date()
        settings = ctx.settings.scoring
        reviews.open_review(session=s, workspace_id=ws.id, cycle=cycle, today=today, now=at,
                            settings=settings, actor_id=None, actor_label="demo")
        report = okrs.cycle_report(session=s, workspace_id=ws.id, cycle=cycle, today=today,
                                   now=at, settings=settings, include_drafts=False)
        people = {p.slack_id: p for p in s.scalars(select(Person).where(
            Person.workspace_id == ws.id))}
        owned: dict[str, list[ScoreInput]] = {}
        for o in report.objectives:
            for kr in o.key_results:
                owner = kr.owner_slack_id or o.owner_slack_id
                if owner:
                    owned.setdefault(owner, []).append(ScoreInput(
                        kr.key, self_score(kr), evidence(kr)))
        for sid, entries in owned.items():
            reviews.submit_self_scores(session=s, workspace_id=ws.id, cycle=cycle,
                                       person=people[sid], entries=entries,
                                       now=at + timedelta(hours=2))
        finals = _finals(s, ws, cycle, owned)
        leads = {p.id: p for p in people.values()}
        for person_id, entries in finals.items():
            reviews.submit_final_scores(session=s, workspace_id=ws.id, cycle=cycle,
                                        person=leads[person_id], entries=entries,
                                        now=at + timedelta(days=1))
        reflected = _reflect(s, ws, cycle, report.objectives, people, at + timedelta(days=2))
        reviews.close_cycle(session=s, workspace_id=ws.id, cycle=cycle, today=today,
                            now=at + timedelta(days=5), settings=settings, actor_id=None,
                            actor_label="demo")
        changed = sum(1 for es in finals.values() for e in es if e.note)
        total = sum(len(es) for es in owned.values())
    ctx.results["scoring"] = (
        f"On {today.isoformat()}, two days after {cycle.name} ended, the review opened: "
        f"{total} key results were self-scored by {len(owned)} owners, {len(finals)} leads "
        f"agreed the final scores ({changed} lowered, each with a reason), {reflected} "
        "reflections were written, and the cycle was closed.")


def _finals(s: Session, ws: Workspace, cycle: Cycle,
            owned: dict[str, list[ScoreInput]]) -> dict[int, list[ScoreInput]]:
    """Each KR's nearest lead agrees the self score, lowering one in four by 0.1-0.2."""
    own = {e.kr_key: e.score for entries in owned.values() for e in entries}
    by_person: dict[int, list[ScoreInput]] = {}
    pending = reviews.pending_scorers(session=s, workspace_id=ws.id, cycle=cycle)
    for p in pending:
        for key in p.final_krs:
            score = own.get(key)
            if score is None:
                continue
            if _pick(key + "/lead", 4) == 0 and score >= 0.3:
                lowered = round(score - 0.1 - 0.1 * _pick(key, 2), 1)
                entry = ScoreInput(key, lowered, REASONS[_pick(key, len(REASONS))])
            else:
                entry = ScoreInput(key, score)
            by_person.setdefault(p.person_id, []).append(entry)
    return by_person


def _reflect(s: Session, ws: Workspace, cycle: Cycle, objectives: list[ObjectiveView],
             people: dict[str, Person], at: datetime) -> int:
    count = 0
    for o in objectives:
        owner = people.get(o.owner_slack_id or "")
        if owner is None or _pick(o.key, 3) == 0:
            continue
        reflections.record(session=s, workspace_id=ws.id, cycle=cycle, person=owner, now=at,
                           objective_key=o.key, worked=WORKED[_pick(o.key, len(WORKED))],
                           did_not_work=DID_NOT[_pick(o.key + "-", len(DID_NOT))],
                           carry_forward=CARRY[_pick(o.key + "+", len(CARRY))]
                           if _pick(o.key, 2) else None)
        count += 1
    return count


def _closed_cycle(ctx: DemoContext, s: Session) -> tuple[Workspace, Cycle, datetime]:
    ws = ctx.workspace(s)
    cycle = ctx.cycle(s)
    return ws, cycle, review_instant(ws, cycle) + timedelta(days=5)


def show_retrospective(ctx: DemoContext) -> None:
    with ctx.session() as s:
        ws, cycle, at = _closed_cycle(ctx, s)
        if cycle.phase != CyclePhase.CLOSED.value:
            return
        r = retro.build(session=s, workspace_id=ws.id, cycle=cycle, today=at.date(), now=at,
                        settings=ctx.settings.scoring, scope_name=ws.name)
    ctx.out("")
    ctx.out(ctx.style.paint(f"{cycle.name} ends: scoring, reflections, retrospective",
                            bold=True))
    if "scoring" in ctx.results:
        ctx.out(ctx.results["scoring"])
    ctx.out("")
    ctx.out(retro_text(r, markup="plain").rstrip())


def write_report(ctx: DemoContext) -> None:
    with ctx.session() as s:
        ws, cycle, at = _closed_cycle(ctx, s)
        data = reports.build(session=s, workspace_id=ws.id, cycle=cycle, today=at.date(),
                             now=at, settings=ctx.settings.scoring)
        name = cycle.name
    path = ctx.db_path.parent / f"report-{name}.html"
    path.write_text(html.render(data), encoding="utf-8")
    ctx.results["report_path"] = path
    ctx.out("")
    ctx.out(ctx.style.paint("The cycle report", bold=True) +
            f" (standalone HTML with charts; works offline): {path}")
    ctx.out(f"  open it in a browser: {path.as_uri()}")
    ctx.out("  as Markdown: see the commands below")
    ctx.results["commands"] = [f"okr report --cycle {name} --format md"]
