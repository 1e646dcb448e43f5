"""``okr checkin`` (record a check-in without Slack) and ``okr show`` (one objective or KR)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import click
from sqlalchemy import select

from app.bootstrap import utcnow
from app.commands import context
from app.commands import correct as corrections_cli
from app.commands.context import Ctx, Obj, opened, parse_instant, pass_obj
from app.demo.tree import kr_value
from app.domain import CheckinAnswer, CheckinSource, KRState, KRType, KRView, ObjectiveView
from app.models import Checkin, Cycle, Person
from app.services.checkins import record as checkins
from app.services.errors import InvalidValue
from app.services.links import lookup
from app.services.links.refs import counts
from app.services.okrs import report as okrs
from app.services.okrs.report import CycleReport
from app.services.tenancy import people

workspace_option = context.workspace_option(metavar="REF")


def _instant(at: str) -> datetime:
    try:
        return parse_instant(at)
    except click.BadParameter as exc:
        raise click.ClickException(f"--at: {exc.message}") from None


def _number(option: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise click.ClickException(f"{option}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise click.ClickException(f"{option}: {text!r} is not a usable number")
    return value


@click.command("checkin")
@click.argument("kr_id")
@click.option("--value", default=None, metavar="X", help="The current value (measured KRs).")
@click.option("--score", default=None, metavar="S", help="0.0-1.0 (manual KRs).")
@click.option("--done", is_flag=True, help="Mark a milestone KR done (value 1).")
@click.option("--no-change", is_flag=True, help="Still here: carry the last value forward.")
@click.option("--status", default=None, metavar="green|yellow|red",
              help="Your traffic light (default: none declared).")
@click.option("--confidence", default=None, metavar="low|medium|high")
@click.option("--note", default=None)
@click.option("--blockers", default=None)
@click.option("--as", "as_slack_id", default=None, metavar="SLACK_ID",
              help="Record it as this person (default: no author, actor 'cli').")
@click.option("--at", "at", default=None, metavar="ISO-8601",
              help="When it happened (default now; earlier instants join the history).")
@click.option("--idempotency-key", default=None,
              help="Scripts that may retry: a key already used records nothing new.")
@click.option("--correct", is_flag=True,
              help="Correct the latest check-in on KR_ID (by --as) with the options given.")
@click.option("--undo", is_flag=True, help="Undo the latest check-in (within 24 hours).")
@click.option("--checkin", "checkin_id", type=int, default=None, metavar="ID",
              help="With --correct/--undo: this check-in (okr show KR_ID lists the ids).")
@workspace_option
@pass_obj
def checkin(obj: Obj, kr_id: str, value: str | None, score: str | None, done: bool,
            no_change: bool, status: str | None, confidence: str | None, note: str | None,
            blockers: str | None, as_slack_id: str | None, at: str | None,
            idempotency_key: str | None, correct: bool, undo: bool, checkin_id: int | None,
            workspace_ref: str | None) -> None:
    """Record a check-in on key result KR_ID (append-only history), or correct one."""
    given = [name for name, on in (("--value", value is not None), ("--score", score is not None),
                                   ("--done", done), ("--no-change", no_change)) if on]
    if len(given) > 1:
        raise click.ClickException(f"give one of --value, --score, --done, --no-change "
                                   f"(got {' and '.join(given)})")
    fix = _Fix(correct or undo, undo, checkin_id)
    _fix_options(fix, at=at, no_change=no_change)
    now = utcnow()
    when = _instant(at) if at else now
    if when > now:
        raise click.ClickException("--at is in the future")
    with opened(obj.container, workspace_ref, now) as ctx:
        kr = okrs.kr_by_key(session=ctx.session, workspace_id=ctx.ws.id, key=kr_id)
        if kr is None:
            raise click.ClickException(f"no key result {kr_id!r} (see okr tree for the ids)")
        kind = KRType(kr.kr_type)
        if not given and not fix.on and kind not in (KRType.ISSUES, KRType.CHILDREN):
            hint = "--score" if kind == KRType.MANUAL else \
                "--done" if kind == KRType.MILESTONE else "--value"
            raise click.ClickException(f"{kr_id} is {_a(kind)} KR: give {hint} "
                                       "(or --no-change)")
        if done and kind != KRType.MILESTONE:
            raise click.ClickException(f"--done is for milestone KRs; {kr_id} is {_a(kind)} KR")
        author_id = None
        if as_slack_id:
            person = people.by_slack_id(session=ctx.session, workspace_id=ctx.ws.id,
                                        slack_id=as_slack_id)
            if person is None:
                raise click.ClickException(f"--as: no person {as_slack_id!r}")
            author_id = person.id
        if fix.on:
            click.echo(corrections_cli.correct(
                ctx, kr, checkin_id=fix.checkin_id, author_id=author_id,
                actor_label=f"cli:{as_slack_id}" if as_slack_id else "cli",
                change=corrections_cli.Change(
                    value=1.0 if done else _number("--value", value),
                    score=_number("--score", score), status=status, confidence=confidence,
                    note=note, blockers=blockers),
                undo=fix.undo, now=now, idempotency_key=idempotency_key))
            return
        data = CheckinAnswer(kr_key=kr.key, value=1.0 if done else _number("--value", value),
                            score=_number("--score", score), status=status,
                            confidence=confidence, note=note, blockers=blockers,
                            no_change=no_change)
        replay = idempotency_key is not None and ctx.session.scalar(
            select(Checkin.id).where(Checkin.workspace_id == ctx.ws.id,
                                     Checkin.idempotency_key == idempotency_key)) is not None
        try:
            checkins.record(
                session=ctx.session, workspace_id=ctx.ws.id, kr=kr, data=data,
                author_id=author_id,
                actor_label=f"cli:{as_slack_id}" if as_slack_id else "cli",
                source=CheckinSource.CLI, now=when, idempotency_key=idempotency_key)
        except InvalidValue as exc:
            option = {"value": "--value", "score": "--score", "status": "--status",
                      "confidence": "--confidence", "note": "--note",
                      "blockers": "--blockers"}.get(exc.field or "", "")
            raise click.ClickException(f"{option + ': ' if option else ''}{exc.message}") \
                from None
        report = _report(ctx, kr.objective.cycle_id)
        view = report.key_result(kr.key)
    if view is None:
        click.echo(f"recorded a check-in on {kr_id}")
        return
    head = f"already recorded (idempotency key {idempotency_key!r}): {kr_id}" if replay \
        else f"recorded a check-in on {kr_id}"
    click.echo(f"{head}: {kr_value(view)}, score {view.score:.2f}, status {_status(view)}")


@dataclass(frozen=True, slots=True)
class _Fix:
    on: bool
    undo: bool
    checkin_id: int | None


def _fix_options(fix: _Fix, *, at: str | None, no_change: bool) -> None:
    if fix.checkin_id is not None and not fix.on:
        raise click.ClickException("--checkin picks the check-in to correct: add --correct "
                                   "or --undo")
    if fix.on and at:
        raise click.ClickException("--at is for new check-ins: a correction is recorded now")
    if fix.on and no_change:
        raise click.ClickException("--no-change is for new check-ins: give what to correct")


def _a(kind: KRType) -> str:
    return f"an {kind}" if str(kind)[0] in "aeiou" else f"a {kind}"


def _report(ctx: Ctx, cycle_id: int) -> CycleReport:
    cycle = ctx.session.get(Cycle, cycle_id)
    assert cycle is not None
    return okrs.cycle_report(session=ctx.session, workspace_id=ctx.ws.id, cycle=cycle,
                             today=ctx.today, now=ctx.now, settings=ctx.settings.scoring)


def _status(kr: KRView) -> str:
    return kr.state.value if kr.state != KRState.ACTIVE else kr.status.value


def _who(name: str | None, slack_id: str | None) -> str:
    return f"{name} ({slack_id})" if name else "nobody"


@click.command("show")
@click.argument("item_id", required=False)
@workspace_option
@pass_obj
def show(obj: Obj, item_id: str | None, workspace_ref: str | None) -> None:
    """One objective or key result in detail, a KR with its full check-in history.

    Without ID: the ids of the current cycle's objectives and key results.
    """
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as ctx:
        lines = _index_lines(_report(ctx, ctx.cycle(None).id)) if item_id is None \
            else _detail_lines(ctx, item_id)
    click.echo("\n".join(lines))


def _detail_lines(ctx: Ctx, item_id: str) -> list[str]:
    objective = okrs.objective_by_key(session=ctx.session, workspace_id=ctx.ws.id, key=item_id)
    if objective is not None:
        report = _report(ctx, objective.cycle_id)
        view = report.objective(item_id)
        return _objective_lines(view, report) if view else []
    kr = okrs.kr_by_key(session=ctx.session, workspace_id=ctx.ws.id, key=item_id)
    if kr is None:
        raise click.ClickException(f"no objective or key result {item_id!r}")
    report = _report(ctx, kr.objective.cycle_id)
    kview = report.key_result(item_id)
    return _kr_lines(ctx, kview, kr.id, report) if kview else []


def _index_lines(report: CycleReport) -> list[str]:
    lines = [f"{report.cycle.name}: {len(report.objectives)} objectives "
             "(okr show ID for one of them)"]
    for o in report.objectives:
        pad = "  " * o.depth
        lines.append(f"{pad}{o.key:<{max(24 - len(pad), 1)}} {o.score:4.2f}  "
                     f"{o.status.value:<7} {o.title}")
        lines += [f"{pad}  {kr.key:<{max(22 - len(pad), 1)}} {kr.score:4.2f}  "
                  f"{_status(kr):<7} {kr.title}" for kr in o.key_results]
    return lines


def _objective_lines(o: ObjectiveView, report: CycleReport) -> list[str]:
    aligned = f"{o.aligned_to}/{o.aligned_to_kr}" if o.aligned_to_kr else o.aligned_to
    c = report.cycle
    lines = [
        f"Objective {o.key}: {o.title}",
        f"  cycle       {o.cycle} (day {c.day} of {c.total_days}, expected {c.expected:.2f})",
        f"  team        {o.team_name or '-'}",
        f"  owner       {_who(o.owner_name, o.owner_slack_id)}",
        f"  aligned to  {aligned or '-'}",
        f"  kind        {o.visibility.value}, {o.commitment.value}"
        f"{', development' if o.is_development else ''}{', draft' if o.is_draft else ''}; "
        f"rollup {o.rollup_mode.value}",
        f"  score       {o.score:.2f} · status {o.status.value}",
        "", "Key results",
    ]
    for kr in o.key_results:
        lines.append(f"  {kr.key:<18} {kr_value(kr):>12}  {kr.score:4.2f}  {_status(kr):<7} "
                     f"{kr.title}  ({kr.owner_name or 'no owner'})")
    if not o.key_results:
        lines.append("  none")
    children = [v for v in report.objectives if v.aligned_to == o.key and v.key != o.key]
    if children:
        lines += ["", "Aligned objectives"]
        lines += [f"  {v.key:<18} {v.score:4.2f}  {v.status.value:<7} {v.title}"
                  for v in children]
    return lines


def _linked_lines(ctx: Ctx, kr_key: str) -> list[str]:
    """An issues KR's saved search (with its last error) and its items: open first, then
    done, then those that left the search or were deleted in the tracker."""
    lines: list[str] = []
    search = lookup.search_of(session=ctx.session, workspace_id=ctx.ws.id, kr_key=kr_key)
    if search is not None:
        line, error = search
        lines.append(f"  search      {line}" + (f" (last run: {error})" if error else ""))
    for item in lookup.linked_items(session=ctx.session, workspace_id=ctx.ws.id, kr_key=kr_key):
        state = ("left the search" if item.left else "deleted in the tracker"
                 if not counts(item.state) else "done" if item.done
                 else "not read yet" if item.state == "unknown" else item.state)
        origin = ", from the search" if item.from_query and not item.left else ""
        lines.append(f"  link        {item.ref} {state}{origin}, weight {item.weight:g}: "
                     f"{item.url}" + (f" ({item.title})" if item.title else ""))
    return lines


def _kr_lines(ctx: Ctx, kr: KRView, kr_id: int, report: CycleReport) -> list[str]:
    unit = f" {kr.unit}" if kr.unit else ""
    target = {KRType.INCREASE: f"{kr.start:g} → {kr.target:g}{unit}" if kr.start is not None
              and kr.target is not None else "",
              KRType.DECREASE: f"{kr.start:g} → {kr.target:g}{unit}" if kr.start is not None
              and kr.target is not None else "",
              KRType.ABOVE: f"stay at or above {kr.target:g}{unit}" if kr.target is not None
              else "",
              KRType.BELOW: f"stay at or below {kr.target:g}{unit}" if kr.target is not None
              else ""}.get(kr.kr_type, "")
    declared = kr.declared_status.value if kr.declared_status else "none"
    lines = [
        f"Key result {kr.key}: {kr.title}",
        f"  objective   {kr.objective_key}",
        f"  owner       {_who(kr.owner_name, kr.owner_slack_id)}",
        f"  type        {kr.kr_type}{' · ' + target if target else ''} · weight {kr.weight:g}",
        f"  latest      {kr_value(kr)} · score {kr.score:.2f} · progress {kr.progress:.2f}"
        f" · trend {kr.trend}",
        f"  status      {_status(kr)} (declared {declared}, suggested "
        f"{kr.suggested_status.value}; pace expects {report.cycle.expected:.2f})",
    ]
    if kr.stale:
        lines.append("  ! stale: no check-in for two weeks or more")
    if kr.mismatch:
        lines.append(f"  ! {kr.mismatch}")
    lines += _linked_lines(ctx, kr.key)
    rows = list(ctx.session.execute(
        select(Checkin, Person.name).outerjoin(Person, Person.id == Checkin.author_id)
        .where(Checkin.workspace_id == ctx.ws.id, Checkin.kr_id == kr_id)
        .order_by(Checkin.at, Checkin.id)))
    lines += ["", f"Check-ins ({len(rows)}, oldest first)"]
    if rows:
        lines.append(f"  {'id':>6}  {'at (UTC)':<16}  {'author':<16} {'value':>8} {'score':>5}  "
                     f"{'status':<6}  {'source':<6}  note / blockers")
    superseded = {c.supersedes_id for c, _ in rows if c.supersedes_id is not None}
    for c, author in rows:
        text = " / ".join(t for t in (
            "(undo)" if c.undone else "(corrected)" if c.id in superseded else None,
            c.note, f"blocked: {c.blockers}" if c.blockers else None) if t)
        value = "" if c.value is None else f"{c.value:g}"
        score = "" if c.score is None else f"{c.score:.2f}"
        lines.append(f"  {'#' + str(c.id):>6}  {_at(c.at)}  {(author or '-')[:16]:<16} "
                     f"{value:>8} {score:>5}  "
                     f"{c.status or '-':<6}  {c.source:<6}  {text}")
    return lines


def _at(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


COMMANDS = [checkin, show]
