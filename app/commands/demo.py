"""``okr demo``: try okr-checkin with no Slack workspace and no configuration."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from app.demo.context import DEFAULT_DB, DemoError
from app.demo.run import run_demo
from app.demo.text import wrap
from app.demo.tree import Style


@click.command("demo")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_DB, show_default=True,
              help="SQLite file for the demo; recreated on every run.")
@click.option("--keep", is_flag=True,
              help="Reuse the existing demo database (no reload, no simulation): "
                   "print it again, e.g. after `okr checkin` on it.")
@click.option("--color/--no-color", default=None,
              help="Colour the output (default: when writing to a terminal).")
def demo(db_path: Path, keep: bool, color: bool | None) -> None:
    """Load a sample organisation into SQLite, simulate a quarter of check-ins, print the tree.

    Ignores DATABASE_URL: the demo always uses its own SQLite file.
    """
    # The demo is read by people: keep routine log lines out of the way.
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger().setLevel(logging.WARNING)
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower()
    style = Style(color=sys.stdout.isatty() if color is None else color,
                  unicode="utf" in encoding or encoding == "")
    click.echo("okr demo: a sample company and a quarter of check-ins, no Slack needed.")
    click.echo(wrap(f"Database: {db_path.resolve()} ({'reused' if keep else 'created fresh'})"))
    try:
        # click.echo drops ANSI styles unless told: colour is decided by Style above.
        run_demo(db_path=db_path, out=lambda text: click.echo(wrap(text), color=style.color),
                 style=style, fresh=not keep)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [demo]
