"""``okr tick``, ``okr worker``, ``okr deliveries`` and ``okr timeline ...``: the clock."""

from __future__ import annotations

import signal
import threading
from datetime import date, datetime, time
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.bootstrap import utcnow
from app.calendar import timeline
from app.commands.admin import require_secret_key
from app.commands.context import Obj, instant_or_now, opened, pass_obj
from app.config import Settings
from app.db import unit_of_work
from app.models import Delivery
from app.services.okrs import cycles
from app.services.scheduling import schedules
from app.services.scheduling import timeline as timeline_rules
from app.services.tenancy import workspaces
from scheduler.clients import client_factory
from scheduler.jobs import tick as run_tick

KINDS = ["prompt", "nudge", "escalation", "digest", "reminder", "review_reminder", "retro"]
STATES = ("pending", "sending", "sent", "skipped", "failed", "missed", "unknown")


@click.command("tick")
@click.option("--at", "at", default=None, metavar="ISO-8601",
              help="Run as if the time were this instant (default now), e.g. 2026-03-02T09:00Z.")
@click.option("--no-deliver", is_flag=True, help="Only enqueue what is due; send nothing.")
@click.option("--budget", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="Stop delivering after this long (default 80% of OKR_TICK_SECONDS).")
@pass_obj
def tick(obj: Obj, at: str | None, no_deliver: bool, budget: float | None) -> None:
    """One scheduler pass: enqueue what is due and deliver it. Safe to repeat."""
    now = instant_or_now(at)
    require_secret_key(Settings())
    try:
        container = obj.container
        result = run_tick(container.session_factory, container.settings, now,
                          client_for=client_factory(container.settings, container.engine,
                                                    container.session_factory),
                          budget_seconds=budget, deliver=not no_deliver)
    except DBAPIError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0][:200]
        raise click.ClickException(f"the database failed during the tick: {first}") from None
    click.echo(f"tick at {now.isoformat()}: {result.summary()}")


@click.command("worker")
@click.option("--interval", type=click.FloatRange(min=1), default=None, metavar="SECONDS",
              help="Seconds between ticks (default OKR_TICK_SECONDS).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Serve /healthz (and /metrics with OKR_METRICS=on) on this port; with "
                   "OKR_METRICS=on and no --port, on OKR_PORT.")
@pass_obj
def worker(obj: Obj, interval: float | None, port: int | None) -> None:
    """Run the scheduler alone (no HTTP): tick every interval until stopped."""
    # Deferred for start-up cost: APScheduler (and the metrics' HTTP server) load only in
    # processes that run the scheduler.
    from app import metrics_http
    from scheduler import runner

    require_secret_key(Settings())
    stop_event = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop_event.set())
    settings = obj.container.settings
    port = port or (settings.port if settings.metrics == "on" else None)
    stop_metrics = None if port is None else \
        metrics_http.serve_alone(obj.container, settings.host, port)
    stop = runner.start(obj.container, interval_seconds=interval)
    click.echo("scheduler running; Ctrl-C to stop", err=True)
    try:
        stop_event.wait()
    finally:
        if stop_metrics is not None:
            stop_metrics()
        stop()


@click.command("deliveries")
@click.option("--state", type=click.Choice(STATES), default=None, help="Only this state.")
@click.option("--kind", type=click.Choice(KINDS), default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_obj
def deliveries(obj: Obj, state: str | None, kind: str | None, limit: int) -> None:
    """What the scheduler sent, skipped, missed or failed, newest first."""
    with unit_of_work(obj.container.session_factory) as s:
        query = select(Delivery).order_by(Delivery.due_at.desc(), Delivery.id.desc())
        if state:
            query = query.where(Delivery.state == state)
        if kind:
            query = query.where(Delivery.kind == kind)
        for row in s.scalars(query.limit(limit)):
            local = row.due_at.astimezone(schedules.zone(row.tz))
            click.echo(f"{row.due_at:%Y-%m-%d %H:%MZ}  {row.kind:<8} {row.state:<8} "
                       f"{row.target:<12} {row.occurrence:<26} local {local:%a %H:%M}"
                       f"{_step(row)}{'  ' + row.error if row.error else ''}"
                       f"{_moved(row.payload)}")


def _step(row: Delivery) -> str:
    """Where a follow-up stands on the ladder: "  step 2/2 of 2026-03-02", "  lead"."""
    payload = row.payload or {}
    if row.kind == "nudge" and payload.get("step"):
        return f"  step {payload['step']}/{payload.get('steps', '?')} of {payload.get('base')}"
    if row.kind == "escalation":
        return f"  lead, after {payload.get('after_days', '?')} working days"
    return ""


def _moved(payload: dict[str, Any] | None) -> str:
    """Where a delivery moved from and why ("  moved from Mon 6 Apr: Easter Monday")."""
    payload = payload or {}
    if payload.get("moved_from"):
        day = date.fromisoformat(str(payload["moved_from"]))
        return f"  moved from {day:%a} {day.day} {day:%b}: {payload.get('reason')}"
    return f"  held: {payload['reason']}" if payload.get("scheduled_at") else ""


@click.group("timeline")
def timeline_group() -> None:
    """Planning-timeline reminders: the preset and custom rules."""


def _ws(obj: Obj, s: Any, now: datetime) -> Any:
    return workspaces.default_workspace(session=s, now=now)


@timeline_group.command("show")
@pass_obj
def timeline_show(obj: Obj) -> None:
    """The preset, the custom rules and what fires in the next 120 days."""
    now = utcnow()
    with unit_of_work(obj.container.session_factory) as s:
        ws = _ws(obj, s, now)
        click.echo(f"preset: {ws.timeline_preset}")
        today = cycles.org_today(ws, now)
        for rule, cycle, day in timeline_rules.upcoming_reminders(session=s, ws=ws, today=today):
            click.echo(f"{day:%a %Y-%m-%d}  {cycle:<10} {rule.key:<24} {rule.audience:<18} "
                       f"{rule.when()}")


@timeline_group.command("set")
@click.argument("preset", type=click.Choice(list(timeline.PRESETS)))
@pass_obj
def timeline_set(obj: Obj, preset: str) -> None:
    """Use a preset: gitlab-product, okr-cycle or none."""
    now = utcnow()
    with unit_of_work(obj.container.session_factory) as s:
        timeline_rules.set_preset(session=s, ws=_ws(obj, s, now), preset=preset, actor_label="cli",
                             now=now)
    click.echo(f"timeline preset: {preset}")


@timeline_group.command("add")
@click.argument("key")
@click.option("--anchor", type=click.Choice(timeline.ANCHORS), default="start",
              show_default=True)
@click.option("--offset", default="0", help="Days or weeks from the anchor: -2w, 3d, +1w.")
@click.option("--audience", type=click.Choice(timeline.AUDIENCES), default="channel",
              show_default=True)
@click.option("--text", required=True, help="jinja2 text; variables: "
              + ", ".join(sorted(timeline.SAMPLE_CONTEXT)))
@click.option("--at", "at", default="10:00", show_default=True, help="Local time, HH:MM.")
@click.option("--channel", default=None, help="Channel id for channel/usergroup audiences.")
@click.option("--usergroup", default=None, help="User group id to mention (S...).")
@pass_obj
def timeline_add(obj: Obj, key: str, anchor: str, offset: str, audience: str, text: str,
                 at: str, channel: str | None, usergroup: str | None) -> None:
    """Add (or replace) a custom rule, posted once per cycle."""
    now = utcnow()
    try:
        hh, mm = at.split(":")
        rule = timeline.Rule(key=key, anchor=anchor, offset_days=timeline.parse_offset(offset),
                             audience=audience, text=text, at=time(int(hh), int(mm)),
                             channel=channel, usergroup=usergroup)
    except timeline.RuleError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field}") from None
    except ValueError:
        raise click.BadParameter("use HH:MM, e.g. 09:30", param_hint="--at") from None
    with opened(obj.container, None, now) as c:
        timeline_rules.save_rule(session=c.session, ws=c.ws, rule=rule, actor_label="cli",
                                 now=now)
    click.echo(f"rule {key}: {rule.when()}, to {audience}")


@timeline_group.command("remove")
@click.argument("key")
@pass_obj
def timeline_remove(obj: Obj, key: str) -> None:
    """Remove a custom rule."""
    now = utcnow()
    with opened(obj.container, None, now) as c:
        timeline_rules.remove_rule(session=c.session, ws=c.ws, key=key, actor_label="cli",
                                   now=now)
    click.echo(f"removed rule {key}")


COMMANDS = [tick, worker, deliveries, timeline_group]
