"""End-of-cycle ``/okr`` subcommands: review, reflect, report, and the admin's cycle review,
cycle close and cycle next.

Scoring DMs and team retrospectives are scheduler deliveries (``review_reminder``, ``retro``):
opening the review or closing the cycle makes them due, and the next tick sends them once.
"""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk.errors import SlackApiError

from app.models import Person
from app.reports import FORMATS, renderer
from app.services import access
from app.services.errors import InvalidValue
from app.services.review import next_cycle
from app.services.review import report as report_service
from app.services.review import scores as reviews
from blocks import review as ui
from blocks.review_text import next_cycle_text
from handlers import review as modals
from handlers.router import CommandRequest, Reply, subcommand

log = logging.getLogger(__name__)


def _split(args: list[str], words: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``[cycle] [word]`` in any order: (cycle name, chosen word)."""
    word = next((a.lower() for a in args if a.lower() in words), None)
    rest = [a for a in args if a.lower() not in words]
    return (rest[0] if rest else None), word


@subcommand("review", help="Score my key results, or agree my team's final scores",
            usage="[self|team] [cycle]", order=50)
def review(req: CommandRequest) -> None:
    cycle_name, which = _split(req.args, ("self", "team"))
    with req.session() as s:
        person = s.get(Person, req.person.id)
        leads = person is not None and access.leads_anything(s, req.workspace_id, person)
    build = modals.lead_view if which == "team" or (which is None and (leads or req.is_admin)) \
        else modals.self_view
    modals.open_view(req.env, req.client, req.trigger_id, req.workspace_id, req.person, req.now,
                     build, cycle_name, "Review scores" if build is modals.lead_view
                     else "Self-score")


@subcommand("reflect", help="Reflect on the cycle: what worked, what did not, what to carry "
                            "forward", usage="[objective id]", order=51)
def reflect(req: CommandRequest) -> None:
    chosen = req.args[0] if req.args else None
    with req.session() as s:
        view = modals.reflect_view(s, req.env, req.workspace_id, req.person, req.now, None,
                                   chosen=chosen)
    req.open_modal(view)


@subcommand("report", help="Post the cycle report (HTML with charts, or md/csv) to this channel",
            usage="[cycle] [html|md|csv]", slow=True, order=52)
def report(req: CommandRequest) -> Reply:
    cycle_name, fmt = _split(req.args, FORMATS)
    fmt = fmt or "html"
    with req.session() as s:
        today = modals.today(s, req.workspace_id, req.now)
        cycle = modals.reflection_cycle(s, req.workspace_id, req.now, cycle_name)
        # Channel reports never include private objectives.
        data = report_service.build(session=s, workspace_id=req.workspace_id, cycle=cycle,
                                    today=today, now=req.now, settings=req.settings.scoring,
                                    include_private=False)
    text = renderer(fmt)(data)
    filename = f"okr-report-{cycle.name}.{fmt}"
    try:
        req.client.files_upload_v2(channel=req.channel_id, content=text, filename=filename,
                                   title=f"{cycle.name} OKR report",
                                   initial_comment=ui.report_comment(cycle.name, fmt=fmt))
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        log.warning("report.upload_failed", extra={"channel": req.channel_id, "error": error})
        if error in ("not_in_channel", "channel_not_found"):
            return Reply(":warning: I cannot post files here. Invite me to the channel "
                         "(`/invite @OKR`) and try again.")
        raise
    log.info("report.uploaded", extra={"channel": req.channel_id, "format": fmt,
                                       "bytes": len(text.encode())})
    return Reply(f":bar_chart: Posted `{filename}` to this channel.")


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
    with req.session() as s:
        today = modals.today(s, req.workspace_id, req.now)
        cycle = modals.reflection_cycle(s, req.workspace_id, req.now, names[0] if names else None)
        rnd = reviews.open_review(session=s, workspace_id=req.workspace_id, cycle=cycle,
                                  today=today, now=req.now, settings=req.settings.scoring,
                                  actor_id=req.person.id,
                                  actor_label=f"slack:{req.person.slack_id}", deadline=deadline)
        pending = reviews.pending_scorers(session=s, workspace_id=req.workspace_id, cycle=cycle)
        name, due = cycle.name, rnd.deadline
    who = (f"{len(pending)} {'person owes' if len(pending) == 1 else 'people owe'} scores: each "
           "gets a DM shortly, then a daily reminder until they have scored."
           if pending else "Everyone has already scored.")
    return Reply(f":clipboard: *{name}* is in review; scores are due by {due.isoformat()}. {who}")


@subcommand("cycle close", admin=True, order=61, usage="[cycle]",
            help="Close the cycle and post its retrospective to each team's channel")
def cycle_close(req: CommandRequest) -> Reply:
    with req.session() as s:
        today = modals.today(s, req.workspace_id, req.now)
        cycle = modals.reflection_cycle(s, req.workspace_id, req.now,
                                        req.args[0] if req.args else None)
        reviews.close_cycle(session=s, workspace_id=req.workspace_id, cycle=cycle, today=today,
                            now=req.now, settings=req.settings.scoring, actor_id=req.person.id,
                            actor_label=f"slack:{req.person.slack_id}")
        name = cycle.name
    return Reply(f":checkered_flag: *{name}* is closed. Each team's retrospective goes to its "
                 "channel shortly; `/okr report` posts the full report.")


@subcommand("cycle next", admin=True, order=62, usage="[from cycle]",
            help="Create the next cycle and carry unfinished objectives into it as drafts")
def cycle_next(req: CommandRequest) -> Reply:
    with req.session() as s:
        today = modals.today(s, req.workspace_id, req.now)
        source = modals.reflection_cycle(s, req.workspace_id, req.now, req.args[0]) \
            if req.args else None
        res = next_cycle.carry_forward(session=s, workspace_id=req.workspace_id, today=today,
                                       now=req.now, settings=req.settings.scoring,
                                       actor_label=f"slack:{req.person.slack_id}",
                                       actor_id=req.person.id, source=source)
        text = next_cycle_text(source=res.source.name, cycle=res.cycle.name,
                               start=res.cycle.start_date, end=res.cycle.end_date,
                               created=res.created, copied=res.copied, already=len(res.already))
    return Reply(f"```{text}```")
