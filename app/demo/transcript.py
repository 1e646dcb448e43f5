"""The demo's scheduler phases: run the sample quarter through the real scheduler against a
stand-in Slack Web API, then print what was sent, in each recipient's local time.

``run_scheduler`` (a setup phase, before the plain simulation) steps a simulated clock through
the quarter, ticking at every instant something can fall due (prompts, digests, timeline
reminders, then nudges a day after each prompt); before each tick, the check-ins made by then
are recorded (``app.demo.simulate``), so skips and digests see the quarter as it unfolded.
``show_transcript`` prints the result from the delivery rows, grouped by week, then one
check-in written in the DM (``show_conversation``: the real parser, writer and thread answer,
rolled back so every other figure of the demo stays as simulated).
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from app.calendar import cadence, ladder, placement
from app.demo import simulate
from app.demo.context import DemoContext
from app.demo.text import shorten
from app.fakeslack import FakeSlackServer
from app.models import Delivery, Person, Team
from app.services.checkins import conversation
from app.services.okrs import cycles
from app.services.scheduling import ladder as waiting
from app.services.scheduling import schedules, workweeks
from app.services.scheduling.skips import ALREADY_CHECKED_IN
from blocks.reply import reply_message
from scheduler.jobs import tick
from scheduler.leases import WorkLeases, lease_seconds
from scheduler.pacing import Pacer
from scheduler.reminders import due_reminders

KINDS = ("prompt", "nudge", "escalation", "digest", "reminder")
# The conversational check-in shown: who replies, and what (values derive from the KRs').
REPLIER = "U07CHLOE"
REPLY_KRS = ("apac-pipeline", "apac-japan")
LEAD_IN = timedelta(weeks=8, days=1)  # the planning timeline starts 8 weeks before
PER_WEEK = 7  # transcript lines per week before "and N more"


def _instants(ctx: DemoContext, start: datetime,
              end: datetime) -> list[tuple[datetime, bool]]:
    """(instant, needs the check-ins made by then) for every prompt, digest and reminder
    falling due in (start, end], each where the scheduler places it (moved off non-working
    days, into working hours). Digests report check-ins; prompts and reminders do not depend
    on the latest ones (a prompt's "checked in recently" looks days back)."""
    out: dict[datetime, bool] = {}
    with ctx.session() as s:
        ws = ctx.workspace(s)
        all_cycles = schedules.cycles_of(session=s, workspace_id=ws.id)
        anchor = schedules.anchor_for(all_cycles)
        weeks = workweeks.weeks_for(s, ws)
        org_week = workweeks.org_week(ws)
        for plan in schedules.checkin_plans(session=s, ws=ws):
            for p in placement.placed_occurrences(
                    plan.schedule, schedules.zone(plan.tz), weeks.get(plan.person_id, org_week),
                    start, end, anchor=anchor):
                out.setdefault(p.at, False)
        org = schedules.zone(ws.timezone)
        for team in s.scalars(select(Team).where(Team.workspace_id == ws.id,
                                                 Team.channel_id.isnot(None))):
            for o in cadence.occurrences(schedules.digest_schedule(team, ws), org, start, end,
                                         anchor=anchor):
                out[o.at] = True
        for due in due_reminders(s, ws, all_cycles, start, end, weeks):
            out.setdefault(due.due_at, False)
    return sorted((at + timedelta(seconds=1), fresh) for at, fresh in out.items()
                  if start < at <= end)


class _FollowUps:
    """When the follow-ups of the prompts just sent can fall due: each nudge of the ladder in
    the person's working week, and the mornings their KRs' leads would hear of one still
    waiting (a tick there sends nothing when nobody is waiting). People whose KRs all score
    themselves (linked issues, child objectives) have no follow-ups."""

    def __init__(self, ctx: DemoContext, ws_id: int, cycle_id: int) -> None:
        self.settings = ctx.settings
        with ctx.session() as s:
            ws = ctx.workspace(s)
            self.weeks = workweeks.weeks_for(s, ws)
            self.org_week = workweeks.org_week(ws)
            teams, active = waiting.teams_of(s, ws_id), waiting.active_ids(s, ws_id)
            zones = dict(s.execute(select(Person.id, Person.tz).where(
                Person.workspace_id == ws_id)).tuples().all())
            self.leads: dict[int, set[int]] = {}
            for kr in waiting.open_krs(s, ws_id, cycle_id):
                lead = waiting.lead_for(teams, kr.team_id, kr.owner_id, active)
                self.leads.setdefault(kr.owner_id, set())
                if lead is not None:
                    self.leads[kr.owner_id].add(lead)
            self.zones = {pid: schedules.zone(tz) for pid, tz in zones.items()}

    def after(self, sent: datetime, person_id: int | None, tz: str | None) -> list[datetime]:
        if person_id not in self.leads:
            return []
        zone = schedules.zone(tz)
        week = self.weeks.get(person_id, self.org_week)
        out = [step.at for step in ladder.nudge_steps(sent, zone, week,
                                                      self.settings.nudge_after_days)]
        days = self.settings.escalate_after_days
        trigger = ladder.step_at(sent, zone, week, days) if days else None
        for lead in self.leads[person_id] if trigger is not None else ():
            morning = ladder.lead_morning(trigger, self.zones[lead],  # type: ignore[arg-type]
                                          self.weeks.get(lead, self.org_week))
            if morning is not None:
                out.append(morning)
        return [at + timedelta(seconds=1) for at in out]


def _covering(at: datetime, ticks: list[datetime], grace: timedelta) -> datetime | None:
    """The planned tick soon after ``at`` that will create and send what falls due then: a
    follow-up due shortly before a tick that runs anyway is left to it (its row is created and
    sent inside the grace window, and keeps its due time)."""
    i = bisect.bisect_left(ticks, at)
    return ticks[i] if i < len(ticks) and ticks[i] - at <= grace * 0.9 else None


def run_scheduler(ctx: DemoContext) -> None:
    with ctx.session() as s:
        ws = ctx.workspace(s)
        cycle = ctx.cycle(s)
        window, ws_id, cycle_id = cycles.window(cycle), ws.id, cycle.id
    start = datetime.combine(window.start - LEAD_IN, datetime.min.time(), UTC)
    queue = _instants(ctx, start, ctx.now)
    heapq.heapify(queue)
    planned_ticks = sorted(at for at, _ in queue)
    refresh: set[datetime] = set()
    grace = timedelta(hours=ctx.settings.grace_hours)
    follow_ups = _FollowUps(ctx, ws_id, cycle_id)
    pacer = Pacer(10_000.0, 10_000.0)  # the fake has no limits; pacing is shown in bench/
    last: datetime | None = None
    recorded: datetime | None = None
    with ctx.session() as s:
        planned = simulate.plan(session=s, workspace=ctx.workspace(s), window=window)
    # One lease holder for the whole run (the demo is the only scheduler on its database).
    work = WorkLeases(ctx.session_factory, "demo", shared=False,
                      ttl_seconds=lease_seconds(ctx.settings.tick_seconds))
    with FakeSlackServer() as fake, closing(work):
        client = WebClient(token="xoxb-demo", base_url=fake.api_url, retry_handlers=[])
        while queue:
            at, fresh = heapq.heappop(queue)
            if at == last or at > ctx.now:
                continue
            last = at
            if fresh or at in refresh:
                with ctx.session() as s:  # the check-ins made by now
                    simulate.record_planned(session=s, workspace=ctx.workspace(s),
                                            planned=planned, now=at, after=recorded)
                recorded = at
            tick(ctx.session_factory, ctx.settings, at, client_for=lambda _ws: client,
                 pacer=pacer, worker_id="demo", threads=1, budget_seconds=60, leases=work)
            with ctx.session() as s:  # the ladder may follow each prompt sent just now
                for sent, person_id, tz in s.execute(select(
                        Delivery.sent_at, Delivery.person_id, Delivery.tz).where(
                        Delivery.workspace_id == ws_id, Delivery.kind == "prompt",
                        Delivery.state == "sent", Delivery.sent_at >= at)):
                    for later in follow_ups.after(sent, person_id, tz):
                        cover = _covering(later, planned_ticks, grace)
                        if cover is None:
                            heapq.heappush(queue, (later, True))
                        else:  # that tick decides on the check-ins made by then
                            refresh.add(cover)
        ctx.results["slack_messages"] = len(fake.messages)


def _place(tz: str | None) -> str:
    return (tz or "UTC").rsplit("/", 1)[-1].replace("_", " ")


def _when(row: Delivery) -> str:
    """The recipient's local time and place, and the UTC instant (with its day when it
    differs): 41 columns."""
    local = row.due_at.astimezone(schedules.zone(row.tz))
    utc = row.due_at.astimezone(UTC)
    day = f"{utc:%a} " if utc.date() != local.date() else ""
    return (f"{local:%a} {local.day:>2} {local:%b %H:%M} {_place(row.tz):<8} "
            f"{f'({day}{utc:%H:%M} UTC)':<15}")


def _text(row: Delivery, limit: int = 32) -> str:
    moved = _moved_from(row)
    if moved is not None:  # why the request came on another day, and which day it left
        return shorten(f"{(row.payload or {}).get('reason')} ({moved:%a} {moved.day})", limit)
    parts = (row.payload or {}).get("parts") or [{}]
    text = " ".join(str(parts[0].get("text") or "").split())
    more = f" (+{len(parts) - 1} in thread)" if len(parts) > 1 else ""
    return f"{shorten(text, limit - len(more))}{more}"


def _moved_from(row: Delivery) -> date | None:
    """The scheduled day of a check-in request moved off a holiday or a day off."""
    moved = (row.payload or {}).get("moved_from")
    return date.fromisoformat(str(moved)) if moved and row.kind == "prompt" else None


def _prompt_line(row: Delivery, names: dict[str, str]) -> str:
    kind = "moved" if _moved_from(row) else "check-in"
    return f"  {_when(row)}  {_who(row, names):<13} {kind:<8} {_text(row)}"


def _who(row: Delivery, names: dict[str, str]) -> str:
    name = names.get(row.target, row.target)
    return f"#{name}" if row.target[:1] in ("C", "G") else name


def _week_lines(items: list[Delivery], names: dict[str, str], detailed: bool) -> list[str]:
    lines: list[str] = []
    reminders: dict[str, list[Delivery]] = {}
    for row in items:
        if row.kind == "reminder" and row.state == "sent":
            reminders.setdefault(row.occurrence, []).append(row)
    for group in reminders.values():
        first = group[0]
        if len(group) == 1:
            lines.append(f"  {_when(first)}  {_who(first, names):<13} reminder {_text(first)}")
        else:
            local = first.due_at.astimezone(schedules.zone(first.tz))
            when = f"{local:%a} {local.day:>2} {local:%b %H:%M} {'each their own time':<24}"
            lines.append(f"  {when}  {f'{len(group)} people':<13} reminder {_text(first)}")
    prompts = [r for r in items if r.kind == "prompt" and r.state == "sent"]
    if detailed:
        zones_seen: set[str | None] = set()
        for row in prompts:
            if row.tz not in zones_seen:
                zones_seen.add(row.tz)
                lines.append(_prompt_line(row, names))
    else:  # a holiday somewhere: whose request moved, and why
        lines += [_prompt_line(r, names) for r in prompts if _moved_from(r)][:3]
        digests = [r for r in items if r.kind == "digest" and r.state == "sent"]
        for row in digests[:1]:
            lines.append(f"  {_when(row)}  {_who(row, names):<13} digest   {_text(row)}")
    lines += [f"  {_when(r)}  {_who(r, names):<13} nudge    {_text(r)}"
              for r in items if r.kind == "nudge" and r.state == "sent"][:3]
    lines += [f"  {_when(r)}  {_who(r, names):<13} waiting  {_text(r)}"
              for r in items if r.kind == "escalation" and r.state == "sent"][:2]
    return lines


# What each kind of message is called in the output.
NAMES = {"prompt": ("check-in request", "check-in requests"), "nudge": ("nudge", "nudges"),
         "escalation": ("“waiting on” message to a lead", "“waiting on” messages to leads"),
         "digest": ("digest", "digests"), "reminder": ("planning reminder", "planning reminders")}


def _name(kind: str, n: int) -> str:
    one, many = NAMES.get(kind, (kind, f"{kind}s"))
    return f"{n} {one if n == 1 else many}"


def _why(row: Delivery) -> str:
    if row.state == "skipped" and row.error == ALREADY_CHECKED_IN:
        return "not needed"
    return f"{row.state} ({row.error})" if row.error else str(row.state)


def _summary(items: list[Delivery]) -> str:
    sent = Counter(r.kind for r in items if r.state == "sent")
    other = Counter((r.kind, _why(r)) for r in items if r.state != "sent")
    parts = [_name(kind, n) for kind, n in sorted(sent.items())]
    parts += [f"{_name(kind, n)} {why}" for (kind, why), n in sorted(other.items())]
    return " · ".join(parts)


def show_transcript(ctx: DemoContext) -> None:
    with ctx.session() as s:
        ws = ctx.workspace(s)
        rows = list(s.scalars(select(Delivery).where(
            Delivery.workspace_id == ws.id, Delivery.kind.in_(KINDS))
            .order_by(Delivery.due_at, Delivery.id)))
        names = {sid: name for sid, name in s.execute(
            select(Person.slack_id, Person.name).where(Person.workspace_id == ws.id))}
        names |= {str(ch): key for ch, key in s.execute(
            select(Team.channel_id, Team.key).where(Team.workspace_id == ws.id,
                                                    Team.channel_id.isnot(None)))}
    if not rows:
        return
    paint = ctx.style.paint
    ctx.out("")
    ctx.out(paint("What people received in Slack during the quarter", bold=True) + paint(
        " (check-in requests, nudges, “waiting on” messages to team leads, channel digests and "
        "planning reminders), each at the person's own local time and on their working days: "
        "a request due on someone's public holiday comes on their next working day, a channel "
        "reminder due on a weekend the working day before. The first and last weeks, and weeks "
        "when clocks changed, show every time zone; a nudge is not needed when the person "
        "already checked in, and a lead hears of a key result not updated for 7 working days.",
        dim=True))
    weeks: dict[date, list[Delivery]] = {}
    for row in rows:
        local = row.due_at.astimezone(schedules.zone(row.tz)).date()
        weeks.setdefault(cadence.week_of(local), []).append(row)
    offsets: dict[str | None, timedelta | None] = {}
    prompt_weeks = [w for w, items in weeks.items() if any(r.kind == "prompt" for r in items)]
    for monday, items in weeks.items():
        changed = False
        for row in items:
            if row.kind == "prompt":
                off = row.due_at.astimezone(schedules.zone(row.tz)).utcoffset()
                changed |= offsets.get(row.tz, off) != off
                offsets[row.tz] = off
        detailed = bool(prompt_weeks) and (monday in (prompt_weeks[0], prompt_weeks[-1])
                                           or changed)
        ctx.out(paint(f"Week of {monday.day} {monday:%b %Y}: ", bold=True)
                + paint(_summary(items), dim=True))
        for line in _week_lines(items, names, detailed):
            ctx.out(line)
    states = Counter((r.kind, r.state) for r in rows)
    ctx.out(paint("Totals: ", bold=True) + ", ".join(
        f"{_name(kind, n)} {state}" for (kind, state), n in sorted(states.items())))
    keys = Counter((r.kind, r.target, r.occurrence) for r in rows)
    twice = "Nobody got the same message twice" if max(keys.values()) == 1 \
        else "Someone got the same message twice"
    ctx.out(paint(f"{twice}.", dim=True))
    show_conversation(ctx)


def _reply_text(currents: dict[str, float | None]) -> str:
    pipeline = (currents.get("apac-pipeline") or 0.0) + 0.1
    deals = int(currents.get("apac-japan") or 0.0)
    return (f"pipeline ${pipeline:.1f}M on track\n"
            f"japan {deals} at risk the next deal slips to May")


def _terminal(mrkdwn: str) -> list[str]:
    text = mrkdwn.replace(":white_check_mark: ", "").replace(":warning: ", "")
    text = text.replace("*", "").replace("&lt;", "<").replace("&gt;", ">")
    return text.replace("&amp;", "&").split("\n")


def prepare_conversation(ctx: DemoContext) -> None:
    """One check-in by reply in the DM while the quarter still runs (rolled back afterwards);
    what was said and answered is kept for the transcript."""
    session = ctx.session_factory()
    try:
        ws = ctx.workspace(session)
        currents = {kr.key: kr.current for kr in conversation.open_krs(
            session=session, workspace_id=ws.id, slack_id=REPLIER, now=ctx.now,
            settings=ctx.settings)}
        if not set(REPLY_KRS) <= set(currents):
            return
        name = session.scalar(select(Person.name).where(Person.workspace_id == ws.id,
                                                        Person.slack_id == REPLIER)) or ""
        text = _reply_text(currents)
        outcome = conversation.answer(session=session, workspace_id=ws.id, slack_id=REPLIER,
                                      text=text, now=ctx.now, settings=ctx.settings,
                                      key_prefix="demo:dm")
    finally:
        session.rollback()
        session.close()
    answer = [line for block in reply_message(outcome)["blocks"] if block["type"] == "section"
              for line in _terminal(block["text"]["text"])]
    ctx.results["conversation"] = (name.split(" ")[0] or REPLIER, text, answer)


def show_conversation(ctx: DemoContext) -> None:
    """The check-in by reply prepared while the quarter ran, and the bot's answer."""
    prepared = ctx.results.get("conversation")
    if prepared is None:
        return
    first, text, answer = prepared
    paint = ctx.style.paint
    ctx.out("")
    ctx.out(paint("A check-in by reply", bold=True) + paint(
        ": people can also answer the check-in message in plain words. (Shown only; the "
        "figures above and below leave it out.)", dim=True))
    for i, line in enumerate(text.split("\n")):
        ctx.out(f"  {f'{first} in the DM:' if i == 0 else '':<20}{line}")
    for i, line in enumerate(answer):
        ctx.out(f"  {'okr in the thread:' if i == 0 else '':<20}{line}")
