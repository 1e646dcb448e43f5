"""The phases of ``okr demo``, in order. ``PHASES`` is the extension point.

To add a phase (say, a transcript of the messages the scheduler would have sent, or the
end-of-cycle retrospective), write ``def my_phase(ctx: DemoContext) -> None`` in your own
module and add ``Phase("my-phase", my_phase)`` to ``PHASES`` where it belongs: phases that
write data pass ``setup=True`` and go before ``show_tree``; phases that print go after it.
"""

from __future__ import annotations

import shlex
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scoring
from app.demo import calibration, end_of_cycle, simulate, transcript
from app.demo.advice import calibration_lines, lint_lines
from app.demo.context import DEFAULT_DB, DemoContext, Phase
from app.demo.text import activate_lines, database_url
from app.demo.tree import LEGEND, TeamLine, render_tree
from app.models import Person, Team
from app.services.data.imports import load as imports
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.tenancy import workspaces


def sample_text() -> str:
    return resources.files("app.demo").joinpath("sample.yaml").read_text(encoding="utf-8")


def load(ctx: DemoContext) -> None:
    """Import the sample organisation (app/demo/sample.yaml) through ``okr import``'s code."""
    with ctx.session() as session:
        ws = workspaces.default_workspace(session=session, now=ctx.now)
        summary = imports.import_text(session=session, workspace=ws, text=sample_text(),
                                      now=ctx.now)
    c = summary.counts
    tzs = _count_timezones(ctx)
    ctx.out(f"Loaded the sample organisation: {c['people'].created} people in {tzs} time "
            f"zones, {c['teams'].created} teams, {c['objectives'].created} objectives, "
            f"{c['key_results'].created} key results.")


def _count_timezones(ctx: DemoContext) -> int:
    with ctx.session() as session:
        ws = ctx.workspace(session)
        return session.scalar(select(func.count(func.distinct(Person.tz))).where(
            Person.workspace_id == ws.id)) or 0


def simulate_quarter(ctx: DemoContext) -> None:
    """A quarter of weekly check-ins, each at its owner's local morning."""
    with ctx.session() as session:
        ws = ctx.workspace(session)
        cycle = ctx.cycle(session)
        today = ctx.today(ws)
        count = simulate.simulate(session=session, workspace=ws,
                                  window=cycles.window(cycle), now=ctx.now)
    expected = scoring.expected_progress(cycles.window(cycle), today)
    ctx.results["checkins"] = count
    ctx.out(f"Simulated {cycle.name}: {count} weekly check-ins, each recorded at its owner's "
            "local check-in time.")
    view = cycles.view(cycle, today)
    s = ctx.settings.scoring
    aspirational = expected * s.aspirational_target
    ctx.out(f"Today is {today.isoformat()}, day {view.day} of {view.total_days}: pace expects "
            f"{expected:.0%} of a committed KR and {aspirational:.0%} of an aspirational one "
            f"(which aims at {s.aspirational_target:.0%}); a KR {s.yellow_gap * 100:.0f} points "
            f"behind its pace is suggested yellow, {s.red_gap * 100:.0f} behind red. Milestones "
            "go by their due "
            "dates. See docs/scoring.md and Calibration below.")


def show_tree(ctx: DemoContext) -> None:
    with ctx.session() as session:
        ws = ctx.workspace(session)
        cycle = ctx.cycle(session)
        report = okrs.cycle_report(session=session, workspace_id=ws.id, cycle=cycle,
                                   today=ctx.today(ws), now=ctx.now,
                                   settings=ctx.settings.scoring)
        teams = team_lines(session, ws.id)
    ctx.results["report"] = report
    ctx.out("")
    ctx.out(render_tree(report, style=ctx.style, teams=teams, now=ctx.now, title=ws.name))
    ctx.out(ctx.style.paint(f"{LEGEND}.", dim=True))


def team_lines(session: Session, workspace_id: int) -> list[TeamLine]:
    rows = list(session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                .order_by(Team.id)))
    keys = {t.id: t.key for t in rows}
    return [TeamLine(t.key, t.name, t.kind, keys.get(t.parent_id) if t.parent_id else None)
            for t in rows]


def show_advice(ctx: DemoContext) -> None:
    report = ctx.results["report"]
    scoring_settings = ctx.settings.scoring
    ctx.out("")
    ctx.out("\n".join(calibration_lines(report, scoring_settings, ctx.style)))
    ctx.out("")
    ctx.out("\n".join(lint_lines(report, scoring_settings, ctx.style)))


def next_steps(ctx: DemoContext) -> None:
    """Commands to look further, each one runnable as printed from this directory."""
    ctx.out("")
    ctx.out(ctx.style.paint("Explore the demo database", bold=True)
            + " (paste these lines into a shell, in this directory):")
    for line in suggested_commands(ctx):
        ctx.out(f"  {line}")


def suggested_commands(ctx: DemoContext) -> list[str]:
    """Shell lines that run as printed, in order, from the directory the demo ran in."""
    keep = "okr demo --keep" if ctx.db_path == DEFAULT_DB.resolve() \
        else f"okr demo --keep --db {shlex.quote(str(ctx.db_path))}"
    return [*activate_lines(),
            f"export DATABASE_URL={shlex.quote(database_url(ctx.db_path))}",
            "okr tree",
            "okr show onb-ttfv",
            "okr cycle reopen FY27-Q1    # it is closed: reopen it to check in",
            "okr checkin apac-japan --value 2 --status yellow --note 'Second deal signed'",
            *ctx.results.get("commands", []),
            f"{keep}    # all of the above again, with your changes"]


PHASES: list[Phase] = [
    Phase("load", load, setup=True),
    # The scheduler steps through the quarter, recording each check-in as its time comes.
    Phase("scheduler", transcript.run_scheduler, setup=True),
    Phase("simulate", simulate_quarter, setup=True),
    # A check-in by reply, while the cycle still takes check-ins (scoring closes it).
    Phase("conversation", transcript.prepare_conversation, setup=True),
    # Setup phases added later (e.g. the scheduler's message transcript) go here.
    Phase("score-cycle", end_of_cycle.score_cycle, setup=True),
    Phase("tree", show_tree),
    # The quarter replayed to week 7 in a scratch database: mid-quarter lights.
    Phase("week-7", calibration.show_week_tree),
    Phase("advice", show_advice),
    Phase("transcript", transcript.show_transcript),
    # Printing phases added later (e.g. the end-of-cycle retrospective) go here.
    Phase("retrospective", end_of_cycle.show_retrospective),
    Phase("report", end_of_cycle.write_report),
    Phase("next-steps", next_steps),
]
