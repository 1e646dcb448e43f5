"""Subcommands that show OKRs: ``mine``, ``list``, ``show`` and ``cycle``."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from slack_bolt import App

from app.calendar import timeline
from app.domain import CycleWindow, KRType, KRView, TrafficLight
from app.services.errors import NotFound
from app.services.links import lookup
from app.services.okrs import listing
from app.services.okrs import mine as personal
from app.services.tx import Tx
from blocks import okrs as ui
from blocks.common import clip, escape, escape_once, local_datetime, pct, with_unit
from handlers.context import Env
from handlers.router import CommandRequest, Reply, Subcommands

NO_CYCLE = "there is no cycle yet: an admin can import one with `okr import`"
subcommand = Subcommands()


def register(app: App, env: Env) -> None:
    """Only ``/okr`` subcommands here."""
    subcommand.install()


def _scope(req: CommandRequest) -> personal.Scope:
    return personal.Scope(req.person.id, req.person.slack_id, req.person.is_admin)


def _seen(tx: Tx, req: CommandRequest, cycle: str | None = None) -> personal.Seen:
    seen = personal.seen_report(session=tx, workspace_id=req.workspace_id, now=req.now,
                                settings=req.settings.scoring, scope=_scope(req),
                                cycle_name=cycle, cache=req.env.report_cache)
    if seen is None:
        raise NotFound(NO_CYCLE)
    return seen


@subcommand("mine", help="My key results and objectives in the current cycle", order=20)
def mine(req: CommandRequest) -> Reply:
    with req.session() as tx:
        found = _seen(tx, req)
    me = req.person.slack_id
    krs_of: dict[str, list[KRView]] = {}
    chosen = []
    for o in found.objectives:
        mine_krs = [kr for kr in o.key_results if kr.owner_slack_id == me
                    or (kr.owner_slack_id is None and o.owner_slack_id == me)]
        if mine_krs or o.owner_slack_id == me:
            chosen.append(o)
            krs_of[o.key] = mine_krs if o.owner_slack_id != me else list(o.key_results)
    text, blocks = ui.objectives_message(
        "Your OKRs", found.report.cycle, chosen, krs_of=krs_of,
        empty="You own no objectives or key results in this cycle. `/okr new` creates one.")
    return Reply(text, blocks)


@subcommand("list", help="Objectives, filtered by person, channel, team, at-risk or cycle",
            usage="[@user | #channel | team | at-risk | cycle]", order=21)
def list_okrs(req: CommandRequest) -> Reply:
    with req.session() as tx:
        f = listing.parse_filter(session=tx, workspace_id=req.workspace_id, args=req.args,
                                 me=req.person.slack_id)
        found = _seen(tx, req, f.cycle)
    chosen = listing.apply(found.objectives, f)
    title = f"OKRs: {_describe(f)}" if not f.empty else "All OKRs"
    text, blocks = ui.objectives_message(title, found.report.cycle, chosen,
                                         empty="No objectives match.")
    return Reply(text, blocks)


def _describe(f: listing.ListFilter) -> str:
    """The filter in mrkdwn: people as mentions, team keys escaped."""
    parts = [f"<@{escape(p)}>" for p in sorted(f.people)] + [escape(t) for t in sorted(f.teams)]
    return ", ".join(parts + (["at risk"] if f.at_risk else []))


@subcommand("show", help="One objective or key result in detail", usage="<id or words>",
            order=22)
def show(req: CommandRequest) -> Reply:
    if not req.text:
        return Reply("What should I show? `/okr show <id>` takes an objective or key result "
                     "id, or a few words of its title.")
    key = req.args[0] if len(req.args) == 1 else req.text
    with req.session() as tx:
        found = _seen(tx, req)
        cycle, seen = found.report.cycle, found.objectives
        for o in seen:
            if o.key == key:
                children = [c for c in seen if c.aligned_to == o.key]
                text, blocks = ui.objective_detail(o, cycle, children)
                return Reply(text, blocks)
            for kr in o.key_results:
                if kr.key == key:
                    history = listing.kr_history(session=tx, workspace_id=req.workspace_id,
                                                 kr_key=kr.key)
                    items = (lookup.linked_items(session=tx, workspace_id=req.workspace_id,
                                                 kr_key=kr.key)
                             if kr.kr_type == KRType.ISSUES else [])
                    search = lookup.search_of(session=tx, workspace_id=req.workspace_id,
                                              kr_key=kr.key)
                    text, blocks = ui.kr_detail(kr, o, [_history_line(h, kr, req)
                                                        for h in history], items, search)
                    return Reply(text, blocks)
    matches = listing.search(seen, req.text)
    if len(matches) == 1:
        text, blocks = ui.objective_detail(matches[0], cycle)
        return Reply(text, blocks)
    if not matches:
        raise NotFound(f"nothing called `{req.text[:80]}` that you can see in {cycle.name}")
    text, blocks = ui.objectives_message(f"Several matches for “{escape_once(req.text[:80])}”",
                                         cycle,
                                         matches)
    return Reply(text, blocks)


def _history_line(h: listing.HistoryEntry, kr: KRView, req: CommandRequest) -> tuple[str, str]:
    when = local_datetime(h.at.astimezone(ZoneInfo(req.person.tz)))
    who = f"<@{h.author_slack_id}>" if h.author_slack_id else "someone"
    status = f"{TrafficLight(h.status).emoji} " if h.status in {t.value for t in TrafficLight} \
        else ""
    value = f"{escape(with_unit(h.value, kr.unit))} · " if h.value is not None else ""
    note = f" · _{escape(clip(h.note, 200))}_" if h.note else ""
    score = pct(h.score) if h.score is not None else ""
    return when, f"{status}{value}{score} by {who}{note}"


@subcommand("cycle", help="The current cycle: phase, key dates, days left", usage="[name]",
            order=23)
def cycle(req: CommandRequest) -> Reply:
    with req.session() as tx:
        found = personal.cycle_overview(session=tx, workspace_id=req.workspace_id, now=req.now,
                                        settings=req.settings.scoring,
                                        name=req.args[0] if req.args else None,
                                        cache=req.env.report_cache)
    if found is None:
        raise NotFound(NO_CYCLE)
    view = found.view
    text, blocks = ui.cycle_message(view, found.today, key_dates(view.start, view.end, view.name,
                                                                 found.timeline_preset),
                                    found.company_score)
    return Reply(text, blocks)


def key_dates(start: date, end: date, name: str, preset: str | None) -> list[ui.KeyDate]:
    out = [ui.KeyDate(start, "Cycle starts"),
           ui.KeyDate(start + timedelta(days=(end - start).days // 2),
                      "Halfway: mid-cycle check"),
           ui.KeyDate(end, "Last day: final check-ins and scoring")]
    window = CycleWindow(name=name, start=start, end=end)
    if not preset or preset == "none":
        return sorted(out, key=lambda k: k.day)
    try:
        rules = timeline.preset(preset)
    except (KeyError, ValueError):
        return sorted(out, key=lambda k: k.day)
    for rule in rules:
        day = timeline.fire_date(rule, window)
        try:
            text = timeline.render_text(rule.text, timeline.context(window, day))
        except ValueError:
            continue
        out.append(ui.KeyDate(day, text.split(". ")[0][:150]))
    return sorted(out, key=lambda k: k.day)
