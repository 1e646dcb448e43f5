"""``okr report`` and ``okr cycle ...``: reports, review rounds, retrospectives, next cycle."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from app.commands import context
from app.commands.context import Ctx, Obj, instant_or_now, pass_obj, workspace_option
from app.domain import CyclePhase
from app.models import Cycle
from app.reports import FORMATS, renderer
from app.services import audit
from app.services.errors import NotFound
from app.services.okrs import adjustments
from app.services.okrs import report as okrs
from app.services.review import forms, next_cycle, retro, rounds
from app.services.review import report as report_service
from app.services.review import scores as reviews
from blocks import review_text as ui

F = TypeVar("F", bound=Callable[..., Any])


class ReviewCtx(Ctx):
    """By default the cycle being scored, else the current one."""

    no_cycle = "there is no cycle yet: import one first (okr import)"

    def default_cycle(self) -> Cycle | None:
        try:
            return forms.review_cycle(session=self.session, workspace_id=self.ws.id)
        except NotFound:
            return super().default_cycle()


def common(func: F) -> F:
    func = workspace_option()(func)
    func = click.option("--at", "at", default=None, metavar="ISO-8601",
                        help="Act as if the time were this instant (default now).")(func)
    return func


def opened(obj: Obj, workspace_ref: str | None, at: str | None) -> AbstractContextManager[Ctx]:
    """One transaction in the chosen workspace at ``--at``; domain errors become CLI messages."""
    return context.opened(obj.container, workspace_ref, instant_or_now(at), ReviewCtx)


@click.command("report")
@click.option("--cycle", "cycle_name", default=None, help="Cycle name (default: the current one).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@click.option("--include-private", is_flag=True,
              help="Include private objectives (never share such a report in a channel).")
@common
@pass_obj
def report(obj: Obj, cycle_name: str | None, fmt: str, output: Path | None,
           include_private: bool, workspace_ref: str | None, at: str | None) -> None:
    """The cycle report: standalone HTML with charts, Markdown or CSV."""
    with opened(obj, workspace_ref, at) as c:
        cycle = c.cycle(cycle_name)
        data = report_service.build(session=c.session, workspace_id=c.ws.id, cycle=cycle,
                                    today=c.today, now=c.now, settings=c.settings.scoring,
                                    include_private=include_private)
        text = renderer(fmt)(data)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output.resolve()} ({fmt}, {cycle.name})", err=True)


@click.group("cycle")
def cycle_group() -> None:
    """Cycle phases, the end-of-cycle review, retrospectives and the next cycle."""


@cycle_group.command("phase")
@click.argument("name")
@click.argument("phase", type=click.Choice([p.value for p in CyclePhase]))
@common
@pass_obj
def phase(obj: Obj, name: str, phase: str, workspace_ref: str | None, at: str | None) -> None:
    """Set a cycle's phase (planning, active, review, closed)."""
    with opened(obj, workspace_ref, at) as c:
        cycle = c.cycle(name)
        if phase == CyclePhase.REVIEW.value:
            reviews.open_review(session=c.session, workspace_id=c.ws.id, cycle=cycle,
                                today=c.today, now=c.now, settings=c.settings.scoring,
                                actor_id=None, actor_label="cli")
        elif phase == CyclePhase.CLOSED.value:
            reviews.close_cycle(session=c.session, workspace_id=c.ws.id, cycle=cycle,
                                today=c.today, now=c.now, settings=c.settings.scoring,
                                actor_id=None, actor_label="cli")
        elif cycle.phase != phase:
            audit.record(session=c.session, workspace_id=c.ws.id, actor_label="cli",
                         action="cycle.phase", subject_type="cycle", subject_key=cycle.name,
                         now=c.now, before={"phase": cycle.phase}, after={"phase": phase})
            cycle.phase = phase
        click.echo(f"{cycle.name} is now in {cycle.phase}")


@cycle_group.command("reopen")
@click.argument("name")
@common
@pass_obj
def reopen(obj: Obj, name: str, workspace_ref: str | None, at: str | None) -> None:
    """Reopen a closed cycle (audited): back to review once its end date has passed, else back
    to active. A closed cycle is read-only; a reopened one takes check-ins, edits and links."""
    with opened(obj, workspace_ref, at) as c:
        cycle = c.cycle(name)
        phase = rounds.reopen_cycle(session=c.session, workspace_id=c.ws.id, cycle=cycle,
                                    today=c.today, now=c.now, actor_id=None, actor_label="cli")
        click.echo(f"{cycle.name} is reopened: now in {phase.value}")


@cycle_group.command("review")
@click.argument("name", required=False)
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of reminders (default: one week after the cycle ends).")
@common
@pass_obj
def review(obj: Obj, name: str | None, deadline: datetime | None, workspace_ref: str | None,
           at: str | None) -> None:
    """Open the scoring round: snapshot computed scores and ask owners and leads to score.

    The scheduler DMs everyone who still owes a score, at most once a day, until the deadline
    (run ``okr tick`` to send the first DMs now).
    """
    with opened(obj, workspace_ref, at) as c:
        cycle = c.cycle(name)
        rnd = reviews.open_review(session=c.session, workspace_id=c.ws.id, cycle=cycle,
                                  today=c.today, now=c.now, settings=c.settings.scoring,
                                  actor_id=None, actor_label="cli",
                                  deadline=deadline.date() if deadline else None)
        pending = reviews.pending_scorers(session=c.session, workspace_id=c.ws.id, cycle=cycle)
        click.echo(f"{cycle.name} is in review; scores are due by {rnd.deadline.isoformat()}.")
        click.echo(ui.pending_text([(p.name, len(p.self_krs), len(p.final_krs)) for p in pending])
                   if pending else "Everyone has scored.")


@cycle_group.command("retro")
@click.argument("name", required=False)
@click.option("--team", "team_key", default=None, help="Only this team's objectives.")
@click.option("--include-private", is_flag=True, help="Include private objectives.")
@common
@pass_obj
def retrospective(obj: Obj, name: str | None, team_key: str | None, include_private: bool,
                  workspace_ref: str | None, at: str | None) -> None:
    """Print the retrospective: achievement, grades, calibration, gaps, carry-forward."""
    with opened(obj, workspace_ref, at) as c:
        cycle = c.cycle(name)
        r = retro.build(session=c.session, workspace_id=c.ws.id, cycle=cycle, today=c.today,
                        now=c.now, settings=c.settings.scoring, include_private=include_private,
                        team_key=team_key, scope_name=team_key)
        click.echo(ui.retro_text(r, markup="plain"))


@cycle_group.command("next")
@click.option("--from", "source_name", default=None,
              help="The cycle to carry from (default: the last one in review or closed).")
@common
@pass_obj
def next_(obj: Obj, source_name: str | None, workspace_ref: str | None, at: str | None) -> None:
    """Create the next cycle from the fiscal calendar and carry unfinished objectives into it
    as drafts for their owners to confirm. Safe to run again."""
    with opened(obj, workspace_ref, at) as c:
        source = c.cycle(source_name) if source_name else None
        res = next_cycle.carry_forward(session=c.session, workspace_id=c.ws.id, today=c.today,
                                       now=c.now, settings=c.settings.scoring,
                                       actor_label="cli", source=source)
        click.echo(ui.next_cycle_text(
            source=res.source.name, cycle=res.cycle.name, start=res.cycle.start_date,
            end=res.cycle.end_date, created=res.created, copied=res.copied,
            already=len(res.already)))


@cycle_group.command("adjust")
@click.argument("kr_key")
@click.option("--target", type=float, default=None, help="The new target value.")
@click.option("--weight", type=float, default=None, help="The new weight.")
@click.option("--reason", required=True, help="Why it changes (kept in the history).")
@common
@pass_obj
def adjust(obj: Obj, kr_key: str, target: float | None, weight: float | None, reason: str,
           workspace_ref: str | None, at: str | None) -> None:
    """Mid-cycle review: change a key result's target or weight, keeping the old value."""
    with opened(obj, workspace_ref, at) as c:
        kr = okrs.kr_by_key(session=c.session, workspace_id=c.ws.id, key=kr_key)
        if kr is None:
            raise click.ClickException(f"no key result {kr_key!r}")
        rows = adjustments.adjust_kr(session=c.session, workspace_id=c.ws.id, kr=kr, person=None,
                                     reason=reason, target=target, weight=weight, now=c.now,
                                     actor_label="cli", as_admin=True)
        if not rows:
            click.echo(f"{kr.key} already has that target and weight: nothing changed")
        for row in rows:
            click.echo(f"{kr.key}: {row.field} {_num(row.old_value)} -> {_num(row.new_value)}")


def _num(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


COMMANDS = [report, cycle_group]
