"""The App Home tab: my key results, when my next check-in is due, my teams' objectives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain import CheckinEntry, CycleView, KRView, ObjectiveView, Participation
from blocks.checkin import open_value
from blocks.common import (
    button,
    clip,
    context,
    divider,
    escape,
    header,
    kr_line,
    local_date,
    local_datetime,
    pct,
    section,
)
from blocks.corrections import recent_blocks
from blocks.escalation import participation_line
from blocks.home_settings import SettingsAccess, settings_blocks
from blocks.home_setup import SetupView, setup_blocks
from blocks.ids import Action

MAX_KRS = 30
MAX_OBJECTIVES = 30


@dataclass(frozen=True)
class TeamSummary:
    name: str
    score: float | None
    objectives: Sequence[ObjectiveView]
    participation: Participation | None = None  # shown to the team's lead


@dataclass(frozen=True)
class HomeData:
    name: str
    tz: str
    cycle: CycleView | None
    my_krs: Sequence[KRView]
    teams: Sequence[TeamSummary] = field(default_factory=tuple)
    next_checkin: datetime | None = None  # local time in the person's tz
    away_until: date | None = None
    recent_checkins: Sequence[CheckinEntry] = ()  # with Edit and Undo
    settings: SettingsAccess = field(default_factory=SettingsAccess)
    setup: SetupView | None = None  # the first-run checklist, while it is needed


def objective_line(o: ObjectiveView) -> str:
    owner = f" · <@{o.owner_slack_id}>" if o.owner_slack_id else ""
    private = " :lock:" if o.visibility.value == "private" else ""
    grade = f" · _{o.grade.value}_" if o.grade is not None else ""
    return (f"{o.light.emoji} *{escape(clip(o.title, 200))}* `{o.key}`{private}\n"
            f"{pct(o.score)}{grade} · {len(o.key_results)} key results{owner}")


def home_view(data: HomeData) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [header(f"OKRs for {clip(data.name, 100)}")]
    blocks += setup_blocks(data.setup)
    if data.cycle:
        c = data.cycle
        blocks.append(context(f"*{escape(c.name)}* · {c.phase.value} · day {c.day} of "
                              f"{c.total_days} · expected progress {pct(c.expected)}"))
    else:
        blocks.append(context("No cycle yet: an admin can import one with `okr import`."))
    away = button("I'm back", str(Action.COME_BACK)) if data.away_until \
        else button("Going away", str(Action.GO_AWAY))
    blocks.append({"type": "actions", "block_id": "home_actions", "elements": [
        button("Check in", str(Action.OPEN_CHECKIN), open_value(), style="primary"),
        button("New objective", str(Action.NEW_OBJECTIVE)),
        away,
    ]})
    if data.away_until:
        blocks.append(section(f":palm_tree: You are away until {local_date(data.away_until)}: "
                              "no check-in prompts until then."))
    elif data.next_checkin:
        blocks.append(section(f":calendar: Next check-in: *{local_datetime(data.next_checkin)}* "
                              f"({escape(data.tz)})"))
    blocks += settings_blocks(data.settings)
    blocks.append(divider())
    blocks.append(header("My key results"))
    if not data.my_krs:
        blocks.append(section("You own no open key results in this cycle."))
    for kr in data.my_krs[:MAX_KRS]:
        blocks.append(section(kr_line(kr, owner=False, key=False), accessory=button(
            "Edit", f"{Action.EDIT_KR}:{kr.key}", kr.key)))
    if len(data.my_krs) > MAX_KRS:
        blocks.append(context(f"…and {len(data.my_krs) - MAX_KRS} more: `/okr mine`"))
    if data.recent_checkins:
        blocks += [divider(), *recent_blocks(data.recent_checkins)]
    shown = 0
    for team in data.teams:
        if shown >= MAX_OBJECTIVES:
            blocks.append(context("More teams and objectives: `/okr list`"))
            break
        blocks.append(divider())
        score = f" · {pct(team.score)}" if team.score is not None else ""
        blocks.append(header(clip(f"{team.name}{score}", 150)))
        if team.participation is not None:
            blocks.append(context(participation_line(team.participation)))
        if not team.objectives:
            blocks.append(context("No objectives yet."))
        for o in team.objectives:
            if shown >= MAX_OBJECTIVES:
                break
            blocks.append(section(objective_line(o)))
            shown += 1
    return {"type": "home", "blocks": blocks[:100]}
