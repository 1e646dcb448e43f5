"""``/okr next``, ``/okr digest``, and the admin's planning timeline: ``/okr timeline``,
``/okr remind add|remove``."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from slack_bolt import App

from app.calendar import timeline
from app.services.errors import InvalidValue, OkrError
from app.services.scheduling import personal, planning
from blocks import digest as digest_blocks
from blocks.common import context, escape, local_date, local_datetime, section
from blocks.words import count
from handlers.context import Env
from handlers.router import CommandRequest, Reply, Subcommands

subcommand = Subcommands()


def register(app: App, env: Env) -> None:
    """Only ``/okr`` subcommands here."""
    subcommand.install()


@subcommand("next", help="My next check-in prompts, in my time zone", order=42)
def next_prompts(req: CommandRequest) -> Reply:
    with req.session() as tx:
        found = personal.next_prompts(session=tx, workspace_id=req.workspace_id,
                                      person_id=req.person.id, now=req.now)
    if found is None:
        return Reply("You are deactivated here, so no check-in prompts are planned.")
    plan = found.plan
    source = {"person": "your own", "org": "the organisation's",
              "default": "the default"}.get(plan.source, f"team {plan.source[5:]}'s")
    lines = []
    for u in found.upcoming:
        when = local_datetime(u.local)
        if u.moved_from is not None:
            when += f" (moved from {short_date(u.moved_from)}: {escape(u.move_reason or '')})"
        elif u.move_reason:
            when += f" ({escape(u.move_reason)})"
        parts = [when]
        if u.snoozed:
            parts.append("snoozed")
        if u.skip_reason:
            parts.append(f"_no prompt: {escape(u.skip_reason)}_")
        lines.append("• " + " · ".join(parts))
    text = (f"Your check-in schedule ({source}): {plan.schedule.describe()}, in "
            f"{escape(found.tz)}. Change it in App Home: *My settings*.")
    blocks = [section(text), section("\n".join(lines) or "Nothing planned."),
              context(escape(found.week.describe()))]
    blocks += _followups(req, found.upcoming[0].at if found.upcoming else None)
    return Reply(text, blocks=blocks)


def short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _followups(req: CommandRequest, before: datetime | None) -> list[dict[str, Any]]:
    """The ladder of the last prompt: its nudges still to come and when the lead hears."""
    with req.session() as tx:
        found = personal.next_followups(session=tx, workspace_id=req.workspace_id,
                                        person_id=req.person.id, now=req.now,
                                        settings=req.settings, before=before)
    lines = [f"• Nudge {s.rank} of {s.of} · {local_datetime(s.at)} · _if not updated_"
             if s.rank else f"• Your lead hears · {local_datetime(s.at)} · _if still not updated_"
             for s in found.steps]
    if not found.nudges_on:
        lines.append("• _Nudges are off: no reminders after the prompt._")
    if not lines:
        return []
    head = f"After your last prompt ({count(found.waiting, 'key result')} not updated yet):" \
        if found.waiting else "After your prompts:"
    return [section(head + "\n" + "\n".join(lines))]


@subcommand("digest", help="Preview my team's digest (only you see it)", usage="[team]",
            order=43, slow=True)
def digest_preview(req: CommandRequest) -> Reply:
    with req.session() as tx:
        preview = personal.digest_preview(session=tx, workspace_id=req.workspace_id,
                                          person_id=req.person.id,
                                          team_key=req.args[0] if req.args else None,
                                          now=req.now, settings=req.settings.scoring)
    facts = preview.facts
    messages = digest_blocks.build(digest_blocks.DigestInput(
        team_name=preview.team_name, cycle=preview.cycle, objectives=preview.objectives,
        previous=facts.previous, previous_date=facts.previous_date, notes=facts.notes,
        participation=facts.participation), quiet="note")
    first = messages[0]
    blocks: list[dict[str, Any]] = list(first["blocks"])[:45]
    blocks.append(context(f"Preview: only you see this. "
                          f"{'The detail goes in a thread. ' if len(messages) > 1 else ''}"
                          f"Posted to <#{preview.channel_id}> on its schedule."
                          if preview.channel_id else "Preview: this team has no channel."))
    return Reply(str(first["text"]), blocks=blocks)


@subcommand("timeline", help="The planning timeline; admins: `/okr timeline <preset>`",
            usage="[gitlab-product|okr-cycle|none]", order=70)
def timeline_cmd(req: CommandRequest) -> Reply:
    if req.args and not req.is_admin:
        raise OkrError("only admins change the planning timeline")
    with req.session() as tx:
        found = planning.overview(session=tx, workspace_id=req.workspace_id,
                                  person_id=req.person.id, now=req.now,
                                  preset=req.args[0].lower() if req.args else None,
                                  actor_label=f"slack:{req.person.slack_id}")
    preset, coming = found.preset, found.coming
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
    with req.session() as tx:
        planning.save_rule(session=tx, workspace_id=req.workspace_id, person_id=req.person.id,
                           rule=rule, actor_label=f"slack:{req.person.slack_id}", now=req.now)
    return Reply(f":calendar: Reminder `{rule.key}`: {rule.when()}, to "
                 f"{rule.audience.replace('_', ' ')}.")


@subcommand("remind remove", admin=True, order=72, usage="<name>",
            help="Remove a planning reminder")
def remind_remove(req: CommandRequest) -> Reply:
    if not req.args:
        raise InvalidValue("usage: /okr remind remove <name>")
    with req.session() as tx:
        planning.remove_rule(session=tx, workspace_id=req.workspace_id,
                             person_id=req.person.id, key=req.args[0].lower(),
                             actor_label=f"slack:{req.person.slack_id}", now=req.now)
    return Reply(f"Removed reminder `{req.args[0]}`.")
