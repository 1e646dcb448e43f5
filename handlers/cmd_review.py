"""End-of-cycle ``/okr`` subcommands: review, reflect, report, and the admin's cycle review,
cycle close, cycle reopen and cycle next.

Scoring DMs and team retrospectives are scheduler deliveries (``review_reminder``, ``retro``):
opening the review or closing the cycle makes them due, and the next tick sends them once.
"""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from app.reports import FORMATS, renderer
from app.services import access
from app.services.errors import InvalidValue
from app.services.review import actions
from app.services.review import forms as review_forms
from blocks import review as ui
from blocks.common import escape
from blocks.review_text import next_cycle_text
from handlers import review as modals
from handlers.context import Env
from handlers.router import CommandRequest, Reply, Subcommands

log = logging.getLogger(__name__)
subcommand = Subcommands()


def register(app: App, env: Env) -> None:
    """Only ``/okr`` subcommands here (the modals they open are handlers/review.py's)."""
    subcommand.install()


def _split(args: list[str], words: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``[cycle] [word]`` in any order: (cycle name, chosen word)."""
    word = next((a.lower() for a in args if a.lower() in words), None)
    rest = [a for a in args if a.lower() not in words]
    return (rest[0] if rest else None), word


def _step(req: CommandRequest) -> actions.AdminStep:
    return actions.AdminStep(workspace_id=req.workspace_id, actor_id=req.person.id,
                             actor_label=f"slack:{req.person.slack_id}", now=req.now,
                             settings=req.settings.scoring)


@subcommand("review", help="Score my key results, or agree my team's final scores",
            usage="[self|team] [cycle]", order=50)
def review(req: CommandRequest) -> None:
    cycle_name, which = _split(req.args, ("self", "team"))
    with req.session() as tx:
        leads = review_forms.leads_a_team(session=tx, workspace_id=req.workspace_id,
                                          person_id=req.person.id)
    build = modals.lead_view if which == "team" or (which is None and (leads or req.is_admin)) \
        else modals.self_view
    modals.open_view(req.env, req.client, req.trigger_id, req.workspace_id, req.person, req.now,
                     build, cycle_name, "Review scores" if build is modals.lead_view
                     else "Self-score")


@subcommand("reflect", help="Reflect on the cycle: what worked, what did not, what to carry "
                            "forward", usage="[objective id]", order=51)
def reflect(req: CommandRequest) -> None:
    chosen = req.args[0] if req.args else None
    with req.session() as tx:
        view = modals.reflect_view(tx, req.env, req.workspace_id, req.person, req.now, None,
                                   chosen=chosen)
    req.open_modal(view)


@subcommand("report", help="The cycle report (HTML with charts, or md/csv): team leads and "
                           "admins post it here, others get it in a DM",
            usage="[cycle] [html|md|csv]", slow=True, order=52)
def report(req: CommandRequest) -> Reply:
    cycle_name, fmt = _split(req.args, FORMATS)
    fmt = fmt or "html"
    with req.session() as tx:
        # Channel reports never include private objectives.
        data = actions.cycle_report(session=tx, workspace_id=req.workspace_id, now=req.now,
                                    settings=req.settings.scoring, cycle_name=cycle_name)
        # Only a lead of this channel's team (or above it) and admins post here; anyone
        # else gets the report in a DM.
        to_channel = access.may_post_to_channel(session=tx, workspace_id=req.workspace_id,
                                                actor=req.person, channel_id=req.channel_id)
    text = renderer(fmt)(data)
    name = data.cycle.name
    filename = f"okr-report-{name}.{fmt}"
    channel = req.channel_id if to_channel else _dm(req)
    try:
        req.client.files_upload_v2(channel=channel, content=text, filename=filename,
                                   title=f"{name} OKR report",
                                   initial_comment=ui.report_comment(name, fmt=fmt))
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        log.warning("report.upload_failed", extra={"channel": req.channel_id, "error": error})
        if error in ("not_in_channel", "channel_not_found"):
            return Reply(":warning: I cannot post files here. Invite me to the channel "
                         "(`/invite @OKR`) and try again.")
        raise
    log.info("report.uploaded", extra={"channel": channel, "format": fmt,
                                       "bytes": len(text.encode())})
    if not to_channel:
        return Reply(f":bar_chart: Sent `{escape(filename)}` to you in a DM: only a lead of this "
                     "channel's team or an OKR admin posts the report in a channel.")
    return Reply(f":bar_chart: Posted `{escape(filename)}` to this channel.")


def _dm(req: CommandRequest) -> str:
    """The requester's DM with the bot (a file goes to a conversation id, not a user id)."""
    opened = req.client.conversations_open(users=req.person.slack_id)
    return str(opened["channel"]["id"])


@subcommand("cycle review", admin=True, order=60, usage="[cycle] [deadline YYYY-MM-DD]",
            help="Open scoring: move the cycle to review and DM everyone who owes scores")
def cycle_review(req: CommandRequest) -> Reply:
    deadline = None
    names = []
    for arg in req.args:
        if not arg[:1].isdigit():
            names.append(arg)
            continue
        try:
            deadline = date.fromisoformat(arg)
        except ValueError:
            raise InvalidValue(f"{arg!r} is not a date: write the deadline as YYYY-MM-DD",
                               field="deadline") from None
    with req.session() as tx:
        opened = actions.open_review(session=tx, step=_step(req),
                                     cycle_name=names[0] if names else None, deadline=deadline)
    pending = opened.pending
    who = (f"{pending} {'person owes' if pending == 1 else 'people owe'} scores: each "
           "gets a DM shortly, then a daily reminder until they have scored."
           if pending else "Everyone has already scored.")
    return Reply(f":clipboard: *{escape(opened.cycle_name)}* is in review; scores are due by "
                 f"{opened.deadline.isoformat()}. {who}")


@subcommand("cycle close", admin=True, order=61, usage="[cycle]",
            help="Close the cycle and post its retrospective to each team's channel")
def cycle_close(req: CommandRequest) -> Reply:
    with req.session() as tx:
        name = actions.close(session=tx, step=_step(req),
                             cycle_name=req.args[0] if req.args else None)
    return Reply(f":checkered_flag: *{escape(name)}* is closed. Each team's retrospective goes "
                 "to its channel shortly; `/okr report` posts the full report.")


@subcommand("cycle reopen", admin=True, order=63, usage="<cycle>",
            help="Reopen a closed cycle: check-ins, edits and links are allowed again")
def cycle_reopen(req: CommandRequest) -> Reply:
    if not req.args:
        raise InvalidValue("name the cycle to reopen, e.g. `/okr cycle reopen FY27-Q1`",
                           field="cycle")
    with req.session() as tx:
        name, phase = actions.reopen(session=tx, step=_step(req), cycle_name=req.args[0])
    return Reply(f":unlock: *{escape(name)}* is reopened and back in {phase.value}: check-ins, "
                 "edits and links are allowed again.")


@subcommand("cycle next", admin=True, order=62, usage="[from cycle]",
            help="Create the next cycle and carry unfinished objectives into it as drafts")
def cycle_next(req: CommandRequest) -> Reply:
    with req.session() as tx:
        res = actions.carry_forward(session=tx, step=_step(req),
                                    source_name=req.args[0] if req.args else None)
    text = next_cycle_text(source=res.source, cycle=res.cycle, start=res.start, end=res.end,
                           created=res.created, copied=res.copied, already=res.already)
    return Reply(f"```{escape(text)}```")
