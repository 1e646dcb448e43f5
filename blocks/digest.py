"""A team's channel digest: a compact summary in the channel, the detail in its thread.

Pure: the read model (``ObjectiveView``/``KRView``), the previous digest's snapshot and the
notes since then go in; a list of messages comes out (the first for the channel, the rest for
its thread), each within 50 blocks and well under Slack's block-text limit. Wording lives in
``templates/digest.md.j2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from app.domain import (
    CycleView,
    DigestNote,
    KRState,
    KRView,
    ObjectiveView,
    Participation,
    TrafficLight,
)
from blocks.common import clip, context, divider, escape, header, local_date, pct, section
from blocks.escalation import participation_line

MAX_OBJECTIVES = 15  # listed in the summary
MAX_ITEMS = 30  # per detail section
MAX_BLOCKS = 45  # per message, under Slack's 50
MAX_CHARS = 10_000  # per message, under the ~12,000 Slack accepts
SECTION_CHARS = 2_800  # per section block, under 3,000
INLINE_BLOCKS = 6  # details this small stay in the channel message


@dataclass(frozen=True, slots=True)
class DigestInput:
    team_name: str
    cycle: CycleView
    objectives: Sequence[ObjectiveView]
    previous: Mapping[str, Any] | None = None  # the last digest's snapshot()
    previous_date: date | None = None
    notes: Sequence[DigestNote] = ()
    participation: Participation | None = None  # who checked in since the last digest


@lru_cache(maxsize=1)
def _words() -> Any:
    env = Environment(loader=PackageLoader("blocks", "templates"), undefined=StrictUndefined,
                      autoescape=False, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("digest.md.j2").module


def snapshot(objectives: Iterable[ObjectiveView]) -> dict[str, Any]:
    """What the next digest compares against."""
    objs: dict[str, Any] = {}
    krs: dict[str, Any] = {}
    for o in objectives:
        objs[o.key] = {"score": round(o.score, 4), "status": o.status.value}
        for kr in o.key_results:
            krs[kr.key] = {"score": round(kr.score, 4), "status": kr.status.value,
                           "state": kr.state.value}
    return {"objectives": objs, "krs": krs}


def unchanged(data: DigestInput) -> bool:
    """True when scores, statuses and states are as the last digest showed them, and nobody
    left a note since."""
    return data.previous is not None and not data.notes and \
        snapshot(data.objectives) == {k: data.previous.get(k) for k in ("objectives", "krs")}


def _points(diff: float) -> str:
    points = round(diff * 100)
    if points > 0:
        return f":arrow_up_small: +{points} pts"
    if points < 0:
        return f":arrow_down_small: {points} pts"
    return ""


def _change(now: float, before: Mapping[str, Any] | None, status: TrafficLight) -> str:
    if before is None:
        return "new"
    parts = [p for p in [_points(now - float(before.get("score", 0.0)))] if p]
    if before.get("status") and before["status"] != status.value:
        parts.append(f"was {before['status']}")
    return ", ".join(parts) or "no change"


def _who(slack_id: str | None) -> str:
    return f"<@{slack_id}>" if slack_id else ""


def _active(objectives: Sequence[ObjectiveView]) -> list[KRView]:
    return [kr for o in objectives for kr in o.key_results if kr.state == KRState.ACTIVE]


def _items(data: DigestInput) -> dict[str, list[str]]:
    w = _words()
    krs = _active(data.objectives)
    # An outdated or pending KR shows as such, whatever its last light; after the end a KR
    # needs attention only when its grade is partial or a miss.
    at_risk = [kr for kr in krs if not kr.stale and not kr.pending and (
        kr.status.rank >= 1 or (kr.grade is None and kr.suggested_status.rank >= 1))]
    at_risk.sort(key=lambda kr: (-max(kr.status.rank, kr.suggested_status.rank), kr.score))
    return {
        "at_risk": [_kr_line(kr) for kr in at_risk],
        "mismatch": [str(w.mismatch(escape(clip(kr.title, 150)), kr.key,
                                    kr.declared_status.value if kr.declared_status else "?",
                                    escape(kr.mismatch or "")))
                     for kr in krs if kr.mismatch],
        "stale": [str(w.stale(escape(clip(kr.title, 150)), kr.key, _who(kr.owner_slack_id),
                              local_date(kr.last_checkin_at.date()) if kr.last_checkin_at
                              else ""))
                  for kr in krs if kr.stale],
        "notes": [str(w.note(escape(clip(n.kr_title, 150)), n.kr_key, _who(n.author_slack_id),
                             escape(clip(n.note or "", 600)), escape(clip(n.blockers or "", 600))))
                  for n in data.notes if n.note or n.blockers],
    }


def _kr_line(kr: KRView) -> str:
    status = kr.light.emoji
    pace = "" if kr.grade is not None or kr.suggested_status == kr.status \
        else f" (pace says {kr.suggested_status.value})"
    if kr.grade is not None:
        pace = f" · {kr.grade.value}"
    return (f"{status} {escape(clip(kr.title, 150))} · {pct(kr.score)}{pace}"
            f"{' · ' + _who(kr.owner_slack_id) if kr.owner_slack_id else ''}")


def _sections(kind: str, lines: list[str]) -> list[dict[str, Any]]:
    """A titled run of lines packed into as few section blocks as fit."""
    w = _words()
    shown = lines[:MAX_ITEMS]
    if len(lines) > MAX_ITEMS:
        shown.append(f"_{w.more(len(lines) - MAX_ITEMS, 'key results')}_")
    out: list[dict[str, Any]] = []
    text = str(w.section_title(kind))
    for line in shown:
        line = clip(line, SECTION_CHARS - 10)
        if len(text) + len(line) + 1 > SECTION_CHARS:
            out.append(section(text))
            text = line
        else:
            text = f"{text}\n{line}"
    out.append(section(text))
    return out


def _pack(blocks: list[dict[str, Any]], fallback: str) -> list[dict[str, Any]]:
    """Split blocks into messages within the block and character budgets."""
    messages: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    chars = 0
    for block in blocks:
        size = len(str(block))
        if current and (len(current) >= MAX_BLOCKS or chars + size > MAX_CHARS):
            messages.append({"text": fallback, "blocks": current})
            current, chars = [], 0
        current.append(block)
        chars += size
    if current:
        messages.append({"text": fallback, "blocks": current})
    return messages


def _participation(data: DigestInput) -> list[dict[str, Any]]:
    return [context(participation_line(data.participation))] if data.participation else []


def build(data: DigestInput, *, quiet: str = "note") -> list[dict[str, Any]]:
    """The messages to post: ``[summary, *thread replies]``; ``[]`` when there is nothing new
    and ``quiet == "silent"``."""
    w = _words()
    team = escape(clip(data.team_name, 80))
    since = local_date(data.previous_date) if data.previous_date else "the last digest"
    objs = list(data.objectives)
    overall = sum(o.score for o in objs) / len(objs) if objs else None
    fallback = str(w.fallback(team, escape(data.cycle.name), data.cycle.day,
                              data.cycle.total_days, pct(overall) if objs else ""))
    if unchanged(data):
        if quiet == "silent":
            return []
        text = str(w.quiet(team, since))
        return [{"text": text, "blocks": [section(text), *_participation(data)]}]
    prev_objs = (data.previous or {}).get("objectives") or {}
    before = [float(prev_objs[o.key]["score"]) for o in objs if o.key in prev_objs]
    delta = ""
    if overall is not None and data.previous and len(before) == len(objs):
        delta = _points(overall - sum(before) / len(before))
    summary: list[dict[str, Any]] = [
        header(str(w.title(clip(data.team_name, 80), clip(data.cycle.name, 40)))),
        context(str(w.where(data.cycle.day, data.cycle.total_days, pct(data.cycle.expected),
                            pct(overall) if overall is not None else "", delta, since))),
        *_participation(data),
    ]
    for o in list(data.objectives)[:MAX_OBJECTIVES]:
        summary.append(section(str(w.objective(
            o.light.emoji, escape(clip(o.title, 200)),
            pct(o.score) + (f" · _{o.grade.value}_" if o.grade is not None else ""),
            _change(o.score, prev_objs.get(o.key), o.status) if data.previous else "",
            _who(o.owner_slack_id)))))
    if len(data.objectives) > MAX_OBJECTIVES:
        summary.append(context(str(w.more(len(data.objectives) - MAX_OBJECTIVES,
                                          "objectives"))))
    items = _items(data)
    summary.append(section(str(w.attention(len(items["at_risk"]), len(items["mismatch"]),
                                           len(items["stale"]), len(items["notes"])))))
    details: list[dict[str, Any]] = []
    for kind in ("at_risk", "mismatch", "stale", "notes"):
        if items[kind]:
            details += _sections(kind, items[kind])
    if not details:
        return [{"text": fallback, "blocks": summary}]
    if len(details) <= INLINE_BLOCKS and sum(len(str(b)) for b in details) < 3000:
        return [{"text": fallback, "blocks": [*summary, divider(), *details]}]
    summary.append(context(str(w.details_in_thread())))
    return [{"text": fallback, "blocks": summary}, *_pack(details, fallback)]
