"""``/okr next``, ``/okr digest``, and the admin's planning timeline: ``/okr timeline``,
``/okr remind add|remove``."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.calendar import timeline
from app.models import Person, Team, TeamMember, Workspace
from app.services.errors import InvalidValue, NotFound, OkrError
from app.services.okrs import cycles
from app.services.okrs import report as okrs
from app.services.scheduling import digest_facts, schedules
from app.services.scheduling import timeline as timeline_rules
from blocks import digest as digest_blocks
from blocks.common import context, escape, local_date, local_datetime, section
from handlers.router import CommandRequest, Reply, subcommand


def _ws_person(s: Session, req: CommandRequest) -> tuple[Workspace, Person]:
    ws = s.get(Workspace, req.workspace_id)
    me = s.get(Person, req.person.id)
    if ws is None or me is None:
        raise OkrError("I could not find you in this workspace")
    return ws, me


@subcommand("next", help="My next check-in prompts, in my time zone", order=42)
def next_prompts(req: CommandRequest) -> Reply:
    with req.session() as s:
        ws, me = _ws_person(s, req)
        plans = schedules.checkin_plans(session=s, ws=ws, person_ids=[me.id])
        upcoming = schedules.upcoming_prompts(session=s, ws=ws, person=me, now=req.now)
    if not plans:
        return Reply("You are deactivated here, so no check-in prompts are planned.")
    plan = plans[0]
    source = {"person": "your own", "org": "the organisation's",
              "default": "the default"}.get(plan.source, f"team {plan.source[5:]}'s")
    lines = []
    for u in upcoming:
        parts = [local_datetime(u.local)]
        if u.snoozed:
            parts.append("snoozed")
        if u.skip_reason:
            parts.append(f"_no prompt: {u.skip_reason}_")
        lines.append("• " + " · ".join(parts))
    text = (f"Your check-in schedule ({source}): {plan.schedule.describe()}, in "
            f"{escape(me.tz)}.")
    blocks = [section(text), section("\n".join(lines) or "Nothing planned.")]
    return Reply(text, blocks=blocks)


def _team(s: Session, ws: Workspace, me: Person, key: str | None) -> Team:
    if key:
        team = s.scalars(select(Team).where(Team.workspace_id == ws.id, Team.key == key)).first()
        if team is None:
            raise NotFound(f"no team {key!r}")
        return team
    mine = s.scalars(select(Team).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.workspace_id == ws.id, TeamMember.person_id == me.id).order_by(
        Team.channel_id.is_(None), Team.id)).first()
    if mine is None:
        raise NotFound("you are in no team: name one, e.g. `/okr digest eng`")
    return mine


@subcommand("digest", help="Preview my team's digest (only you see it)", usage="[team]",
            order=43, slow=True)
def digest_preview(req: CommandRequest) -> Reply:
    with req.session() as s:
        ws, me = _ws_person(s, req)
        team = _team(s, ws, me, req.args[0] if req.args else None)
        today = cycles.org_today(ws, req.now)
        cycle = cycles.current(session=s, workspace_id=ws.id, today=today)
        if cycle is None:
            raise NotFound("there is no cycle yet")
        report = okrs.cycle_report(session=s, workspace_id=ws.id, cycle=cycle, today=today,
                                   now=req.now, settings=req.settings.scoring,
                                   include_private=False, include_drafts=False)
        facts = digest_facts.digest_facts(session=s, ws=ws, team=team, cycle=cycle)
        messages = digest_blocks.build(digest_blocks.DigestInput(
            team_name=team.name, cycle=report.cycle,
            objectives=[o for o in report.objectives if o.team_key == team.key],
            previous=facts.previous, previous_date=facts.previous_date, notes=facts.notes),
            quiet="note")
    first = messages[0]
    blocks: list[dict[str, Any]] = list(first["blocks"])[:45]
    blocks.append(context(f"Preview: only you see this. "
                          f"{'The detail goes in a thread. ' if len(messages) > 1 else ''}"
                          f"Posted to <#{team.channel_id}> on its schedule."
                          if team.channel_id else "Preview: this team has no channel."))
    return Reply(str(first["text"]), blocks=blocks)


@subcommand("timeline", help="The planning timeline; admins: `/okr timeline <preset>`",
            usage="[gitlab-product|okr-cycle|none]", order=70)
def timeline_cmd(req: CommandRequest) -> Reply:
    with req.session() as s:
        ws, _ = _ws_person(s, req)
        if req.args:
            if not req.is_admin:
                raise OkrError("only admins change the planning timeline")
            timeline_rules.set_preset(session=s, ws=ws, preset=req.args[0].lower(),
                                 actor_label=f"slack:{req.person.slack_id}", now=req.now)
        coming = timeline_rules.upcoming_reminders(session=s, ws=ws,
                                              today=cycles.org_today(ws, req.now))
        preset = ws.timeline_preset
    lines = [f"• {local_date(day)} · {escape(cycle)} · {escape(rule.when())} · "
             f"{rule.audience.replace('_', ' ')} · `{rule.key}`" for rule, cycle, day in coming]
    head = f"Planning timeline: *{preset}*" + (" (set)" if req.args else "")
    return Reply(head, blocks=[section(head), section(
        "\n".join(lines[:40]) or "No reminders in the next 120 days.")])


@subcommand("remind add", admin=True, order=71,
            usage="<name> <start|middle|end> <offset e.g. -2w> <audience> <text>",
            help="Add a planning reminder posted once per cycle")
def remind_add(req: CommandRequest) -> Reply:
    if len(req.args) < 5:
        raise InvalidValue("usage: /okr remind add <name> <start|middle|end> <-2w|3d> "
                           f"<{'|'.join(timeline.AUDIENCES)}> <text>")
    key, anchor, offset, audience = req.args[:4]
    text = " ".join(req.args[4:])
    channel = req.channel_id if audience in ("channel", "usergroup") else None
    usergroup = None
    if audience == "usergroup":
        group, _, text = text.partition(" ")
        usergroup = group.removeprefix("<!subteam^").split("|")[0].rstrip(">")
    try:
        rule = timeline.Rule(key=key.lower(), anchor=anchor.lower(),
                             offset_days=timeline.parse_offset(offset), audience=audience.lower(),
                             text=text, at=time(10, 0), channel=channel, usergroup=usergroup)
    except timeline.RuleError as exc:
        raise InvalidValue(exc.message, field=exc.field) from None
    with req.session() as s:
        ws, _ = _ws_person(s, req)
        timeline_rules.save_rule(session=s, ws=ws, rule=rule,
                            actor_label=f"slack:{req.person.slack_id}", now=req.now)
    return Reply(f":calendar: Reminder `{rule.key}`: {rule.when()}, to "
                 f"{rule.audience.replace('_', ' ')}.")


@subcommand("remind remove", admin=True, order=72, usage="<name>",
            help="Remove a planning reminder")
def remind_remove(req: CommandRequest) -> Reply:
    if not req.args:
        raise InvalidValue("usage: /okr remind remove <name>")
    with req.session() as s:
        ws, _ = _ws_person(s, req)
        timeline_rules.remove_rule(session=s, ws=ws, key=req.args[0].lower(),
                              actor_label=f"slack:{req.person.slack_id}", now=req.now)
    return Reply(f"Removed reminder `{req.args[0]}`.")
