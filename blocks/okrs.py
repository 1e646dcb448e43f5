"""Messages that show OKRs: ``/okr mine``, ``/okr list``, ``/okr show`` and ``/okr cycle``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain import CycleView, KRView, LinkedItem, ObjectiveView
from blocks.common import (
    clip,
    context,
    divider,
    escape,
    fits,
    header,
    kr_line,
    local_date,
    pct,
    section,
)
from blocks.words import count

MAX_OBJECTIVES = 20  # 2 blocks each, within a message's 50
SECTION_LIMIT = 2900


def cycle_line(c: CycleView) -> str:
    return (f"*{escape(c.name)}* · {c.phase.value} · day {c.day} of {c.total_days} · "
            f"expected {pct(c.expected)}")


def objective_head(o: ObjectiveView) -> str:
    team = f" · {escape(o.team_name)}" if o.team_name else ""
    owner = f" · <@{o.owner_slack_id}>" if o.owner_slack_id else ""
    lock = " :lock:" if o.visibility.value == "private" else ""
    aspirational = " · _aspirational_" if o.commitment.value == "aspirational" else ""
    grade = f" · _{o.grade.value}_" if o.grade is not None else ""
    return (f"{o.light.emoji} *{escape(clip(o.title, 300))}* `{o.key}`{lock}\n"
            f"{pct(o.score)}{grade}{team}{owner}{aspirational}")


def _kr_text(krs: Sequence[KRView], *, owner: bool) -> str:
    lines: list[str] = []
    used = 0
    for i, kr in enumerate(krs):
        line = kr_line(kr, owner=owner)
        if used + len(line) + 1 > SECTION_LIMIT:
            lines.append(f"…and {len(krs) - i} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def objectives_message(title: str, cycle: CycleView | None, objectives: Sequence[ObjectiveView],
                       *, krs_of: Mapping[str, Sequence[KRView]] | None = None,
                       empty: str = "Nothing to show.") -> tuple[str, list[dict[str, Any]]]:
    """A list of objectives, each with its KRs (or only ``krs_of[key]`` when given).

    ``title`` is mrkdwn: callers escape the user text in it (a filter's mentions stay
    mentions)."""
    blocks: list[dict[str, Any]] = [section(f"*{title}*")]
    if cycle:
        blocks.append(context(cycle_line(cycle)))
    if not objectives:
        blocks.append(section(empty))
    shown = 0
    for o in objectives[:MAX_OBJECTIVES]:
        krs = krs_of.get(o.key, ()) if krs_of is not None else o.key_results
        group = [section(objective_head(o))]
        if krs:
            group.append(section(_kr_text(krs, owner=krs_of is None)))
        if not fits(blocks, group):
            break
        blocks += group
        shown += 1
    if shown < len(objectives):
        blocks.append(context(f"…and {len(objectives) - shown} more objectives: "
                              "narrow it down, e.g. `/okr list at-risk` or a team name."))
    n = len(objectives)
    text = f"{title}: {count(n, 'objective')}"
    return text, blocks[:50]


def objective_detail(o: ObjectiveView, cycle: CycleView | None,
                     children: Sequence[ObjectiveView] = ()) -> tuple[str, list[dict[str, Any]]]:
    blocks: list[dict[str, Any]] = [header(clip(o.title, 150)), section(objective_head(o))]
    if cycle:
        blocks.append(context(cycle_line(cycle)))
    if o.aligned_to:
        target = f"`{o.aligned_to_kr}`" if o.aligned_to_kr else f"`{o.aligned_to}`"
        blocks.append(context(f"Aligned to {target}"))
    blocks.append(divider())
    for i, kr in enumerate(o.key_results[:30]):
        extra = []
        if kr.last_note:
            extra.append(f"> {escape(clip(kr.last_note, 300))}")
        if kr.last_blockers:
            extra.append(f":construction: {escape(clip(kr.last_blockers, 300))}")
        if kr.mismatch:
            extra.append(f":grey_question: {escape(kr.mismatch)}")
        more = [section("\n".join([kr_line(kr), *extra]))]
        if not fits(blocks, more, budget=9_000):
            blocks.append(context(f"…and {len(o.key_results) - i} more key results"))
            break
        blocks += more
    if children:
        blocks.append(divider())
        lines = [f"{c.light.emoji} {escape(clip(c.title, 150))} `{c.key}` · "
                 f"{pct(c.score)}" for c in children[:20]]
        blocks.append(section("*Aligned objectives*\n" + "\n".join(lines)))
    return f"{escape(o.title)} ({o.key}): {pct(o.score)}", blocks[:50]


_ITEM_STATES = {"open": "open", "unknown": "open (not read from the tracker yet)",
                "closed": "closed", "merged": "merged"}
MAX_ITEMS = 15


def _item_line(item: LinkedItem) -> str:
    ref = f"<{escape(item.url)}|{escape(item.ref)}>"
    title = f" {escape(clip(item.title, 120))}" if item.title else ""
    weight = f" · weight {item.weight:g}" if item.weight != 1.0 else ""
    if item.state == "deleted":
        return f"• ~{ref}~{title}: deleted in the tracker, no longer counts"
    if item.left:
        return f"• ~{ref}~{title}: left the saved search, no longer counts"
    mark = ":white_check_mark:" if item.done else "•"
    return f"{mark} {ref}{title}: {_ITEM_STATES.get(item.state, item.state)}{weight}"


def linked_items_section(items: Sequence[LinkedItem]) -> dict[str, Any]:
    """The KR's linked work, open first; deleted items said so."""
    done = sum(1 for i in items if i.done and i.state != "deleted" and not i.left)
    counted = sum(1 for i in items if i.state != "deleted" and not i.left)
    text = f"*Linked work* ({done} of {counted} done)"
    for shown, item in enumerate(items):
        line = _item_line(item)
        # A section holds 3,000 characters: long links end the list early.
        if shown >= MAX_ITEMS or len(text) + len(line) > 2900:
            return section(f"{text}\n… and {len(items) - shown} more")
        text += "\n" + line
    return section(text)


def search_context(search: tuple[str, str | None]) -> dict[str, Any]:
    """The saved search a KR follows (as typed in Slack), and why its last run failed."""
    line, error = search
    text = f":mag: Follows the saved search {escape(clip(line, 500))}"
    if error:
        text += f"\n:warning: Its last run failed: {escape(clip(error, 300))}"
    return context(text)


def kr_detail(kr: KRView, o: ObjectiveView, history: Sequence[tuple[str, str]] = (),
              items: Sequence[LinkedItem] = (),
              search: tuple[str, str | None] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """A KR with its objective, its saved search, its linked work (``items``) and recent
    check-ins (``history`` as (when, line) pairs)."""
    blocks: list[dict[str, Any]] = [header(clip(kr.title, 150)), section(kr_line(kr)),
                                    context(f"Key result of *{escape(clip(o.title, 200))}* "
                                            f"`{o.key}`")]
    if kr.mismatch:
        blocks.append(context(f":grey_question: {escape(kr.mismatch)}"))
    if search is not None:
        blocks.append(search_context(search))
    if items:
        blocks.append(linked_items_section(items))
    if history:
        lines = [f"*{when}* {line}" for when, line in history[:10]]
        blocks.append(section("*Recent check-ins*\n" + "\n".join(lines)))
    else:
        blocks.append(context("No check-ins yet."))
    return f"{escape(kr.title)} ({kr.key}): {pct(kr.score)}", blocks


@dataclass(frozen=True)
class KeyDate:
    day: date
    label: str


def cycle_message(c: CycleView, today: date, key_dates: Sequence[KeyDate] = (),
                  company_score: float | None = None) -> tuple[str, list[dict[str, Any]]]:
    left = max((c.end - today).days, 0)
    to_start = (c.start - today).days
    if to_start > 0:
        when = f"starts in {count(to_start, 'day')}"
    elif today > c.end:
        when = "has ended"
    else:
        when = f"{count(left, 'day')} left"
    lines = [f"*{escape(c.name)}* · {c.phase.value} phase · {when}",
             f"{local_date(c.start)} → {local_date(c.end)} · day {c.day} of {c.total_days} · "
             f"expected progress {pct(c.expected)}"]
    if company_score is not None:
        lines.append(f"Overall score so far: {pct(company_score)}")
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    upcoming = [k for k in key_dates if k.day >= today][:10]
    if upcoming:
        blocks.append(section("*Key dates*\n" + "\n".join(
            f"• {local_date(k.day)}: {escape(clip(k.label, 200))}" for k in upcoming)))
    return f"{escape(c.name)}: {c.phase.value}, {when}", blocks
