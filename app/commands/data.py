"""``okr import``, ``okr export`` and ``okr tree``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import IntegrityError

from app.bootstrap import utcnow
from app.commands import context
from app.commands.context import Obj, opened, pass_obj
from app.demo.advice import calibration_lines, lint_lines
from app.demo.phases import team_lines
from app.demo.tree import Style, render_tree
from app.services.data import export as exports
from app.services.data.imports import load
from app.services.links import query_sync
from app.services.links import sync as issue_sync
from app.services.okrs import report as okrs
from app.services.tenancy import binding


class Rollback(Exception):
    """Raised inside a unit of work to discard it (``--dry-run``)."""


workspace_option = context.workspace_option(metavar="REF")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@workspace_option
@click.option("--dry-run", is_flag=True, help="Check and report what would change; write nothing.")
@pass_obj
def import_(obj: Obj, file: Path, workspace_ref: str | None, dry_run: bool) -> None:
    """Load settings, cycles, people, teams, objectives and KRs from a YAML FILE.

    Idempotent by id: importing the same file again changes nothing; a changed file updates
    in place (each change is in the audit log). Nothing missing from the file is deleted.
    The whole file is checked first; any problem is reported with its path and nothing is
    written. Without --workspace, a file naming its Slack team (settings.slack_team) goes to
    that team's workspace when there is one.
    """
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    now = utcnow()
    invalid: load.ImportInvalid | None = None
    try:
        with opened(obj.container, workspace_ref, now) as ctx:
            try:
                parsed = load.parse(text)
                ws = ctx.ws if workspace_ref else binding.import_target(
                    session=ctx.session, team_id=load.named_team(parsed), default=ctx.ws)
                summary = load.import_text(session=ctx.session, workspace=ws,
                                              text=text, now=now, parsed=parsed,
                                              gitlab_hosts=ctx.settings.gitlab_hosts)
            except load.ImportInvalid as exc:
                invalid = exc
                raise Rollback from None
            name, ws_id = ws.name, ws.id
            if dry_run:
                raise Rollback
    except Rollback:
        pass
    except IntegrityError:
        # Checked against what was stored a moment ago; a concurrent writer got in between.
        raise click.ClickException(f"{file}: the workspace changed while importing (another "
                                   "import?); nothing was imported, run it again") from None
    if invalid is not None:
        for problem in invalid.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(f"{file}: {invalid}; nothing was imported")
    verb = "would import" if dry_run else "imported"
    source = "standard input" if str(file) == "-" else str(file)
    tail = "" if summary.changed else " (nothing changed)"
    click.echo(f"{verb} {source} into workspace {name!r}{tail}")
    for line in summary.lines():
        click.echo(f"  {line}")
    if not dry_run and summary.changed:
        _read_new_links(obj, ws_id)


def _read_new_links(obj: Obj, workspace_id: int) -> None:
    """Saved searches never run yet are run, and new links on a tracker the workspace has a
    token for take its state, at once (briefly: a webhook or the daily reconciliation fills
    in what this misses)."""
    settings = obj.container.settings
    searches = query_sync.refresh(
        session_factory=obj.container.session_factory, settings=settings, now=utcnow(),
        workspace_id=workspace_id, new_only=True,
        client_factory=issue_sync.default_client_factory(
            settings, max_wait=5.0, max_attempts=1, timeout=(3.0, 5.0)))
    if searches.searches:
        click.echo(f"  searches: {searches.summary()}"
                   + (f" ({len(searches.errors)} not run yet)" if searches.errors else ""))
    report = issue_sync.run_new(
        session_factory=obj.container.session_factory, settings=settings, now=utcnow(),
        workspace_id=workspace_id, client_factory=issue_sync.default_client_factory(
            settings, max_wait=5.0, max_attempts=1, timeout=(3.0, 5.0)))
    if report is not None:
        click.echo(f"  links: read the state of {report.checked} from their trackers"
                   + (f" ({len(report.errors) + len(report.missing)} not readable yet)"
                      if report.errors or report.missing else ""))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "md"]), default="json",
              show_default=True)
@click.option("--cycle", "cycle_name", default=None,
              help="One cycle (default: every cycle for json and csv, the current one for md).")
@click.option("--checkins", is_flag=True,
              help="csv: one row per check-in (the history) instead of one row per KR.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@workspace_option
@pass_obj
def export(obj: Obj, fmt: str, cycle_name: str | None, checkins: bool, output: Path | None,
           workspace_ref: str | None) -> None:
    """Everything, with scores, statuses and the full check-in history."""
    now = utcnow()
    with opened(obj.container, workspace_ref, now) as ctx:
        names = [cycle_name] if cycle_name else None
        if fmt == "md" and names is None:
            names = [ctx.cycle(None).name]
        data = exports.gather(session=ctx.session, workspace=ctx.ws, now=now,
                              settings=ctx.settings.scoring, cycle_names=names)
        if fmt == "json":
            text = exports.to_json(data)
        elif fmt == "csv":
            text = exports.to_csv(data, checkins=checkins)
        else:
            text = exports.to_markdown(data)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc}") from None
    click.echo(f"wrote {output} ({len(data.reports)} cycle{'s' if len(data.reports) != 1 else ''},"
               f" {sum(len(r.objectives) for r in data.reports)} objectives)", err=True)


@click.command("tree")
@click.option("--cycle", "cycle_name", default=None, help="Cycle name (default: the current one).")
@click.option("--advice/--no-advice", default=True, show_default=True,
              help="Also print calibration advice and OKR lint.")
@click.option("--color/--no-color", default=None,
              help="Colour the output (default: when writing to a terminal).")
@workspace_option
@pass_obj
def tree(obj: Obj, cycle_name: str | None, advice: bool, color: bool | None,
         workspace_ref: str | None) -> None:
    """The rollup tree of a cycle: objectives by alignment, KRs, scores, statuses, trends."""
    now = utcnow()
    style = Style(color=sys.stdout.isatty() if color is None else color,
                  unicode="utf" in (getattr(sys.stdout, "encoding", None) or "utf").lower())
    with opened(obj.container, workspace_ref, now) as ctx:
        cycle = ctx.cycle(cycle_name)
        report = okrs.cycle_report(session=ctx.session, workspace_id=ctx.ws.id, cycle=cycle,
                                   today=ctx.today, now=now, settings=ctx.settings.scoring)
        teams = team_lines(ctx.session, ctx.ws.id)
        title = ctx.ws.name
    text = render_tree(report, style=style, teams=teams, now=now, title=title)
    if advice:
        text += "\n" + "\n".join(calibration_lines(report, ctx.settings.scoring, style))
        text += "\n\n" + "\n".join(lint_lines(report, ctx.settings.scoring, style)) + "\n"
    click.echo(text, nl=False, color=style.color)


COMMANDS = [import_, export, tree]
