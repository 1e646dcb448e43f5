"""The bot's answer, in the thread, to a check-in written in the DM. Pure.

It says in plain words what was recorded (``Grow activation: 30 users (was 20), on track``)
and, for each line it could not read, the line and why, with the reminder that nothing was
stored from it, the reply format with the person's KR ids, and the Check in button (the same
one as the prompt's, opening the modal).
"""

from __future__ import annotations

from typing import Any

from app.domain import KRType, ReplyLine, ReplyOutcome, TrafficLight
from blocks.checkin import open_value
from blocks.common import button, clip, context, escape, pct, section, with_unit
from blocks.ids import Action
from blocks.words import count, pick

WORDS = {TrafficLight.GREEN: "on track", TrafficLight.YELLOW: "at risk",
         TrafficLight.RED: "off track"}
MAX_CHOICES = 10
FORMAT = ("Reply with one line per key result: `<id or a word of its title> <value> "
          "[on track | at risk | off track] [note]`, or just `no change`.")


def _amount(line: ReplyLine, value: float | None) -> str:
    if line.kr_type == KRType.MANUAL:
        return pct(value)
    if line.kr_type == KRType.MILESTONE:
        return "done" if value == 1.0 else "not done"
    unit = "%" if line.kr_type == KRType.PERCENT else line.unit
    return escape(with_unit(value, unit))


def _what(line: ReplyLine) -> str:
    """``30 users (was 20)``, ``no change (30 users)``, or "" for KRs without a value."""
    has_value = line.kr_type is not None and (line.kr_type.takes_value
                                              or line.kr_type == KRType.MANUAL)
    if line.no_change:
        return f"no change ({_amount(line, line.value)})" if has_value else "no change"
    if not has_value:
        return ""
    was = "" if line.previous is None or line.previous == line.value \
        else f" (was {_amount(line, line.previous)})"
    return f"{_amount(line, line.value)}{was}"


def _status(line: ReplyLine) -> str:
    if line.status is None:
        return "no status given"
    word = WORDS[line.status]
    return f"still {word}" if line.status_kept else word


def recorded_line(line: ReplyLine) -> str:
    parts = [p for p in (_what(line), _status(line)) if p]
    note = "" if not line.note or (line.no_change and line.note == "no change") \
        else f"\n      “{escape(clip(line.note, 300))}”"
    return f"• *{escape(clip(line.kr_title or '', 150))}*: {', '.join(parts)}{note}"


def problem_line(line: ReplyLine) -> str:
    return f"• “{escape(clip(line.text, 200))}”: {escape(line.problem or '')}"


def _choices(outcome: ReplyOutcome) -> str:
    if not outcome.choices:
        return "You have no open key results to check in on right now."
    shown = [f"`{escape(key)}` {escape(clip(title, 80))}"
             for key, title in outcome.choices[:MAX_CHOICES]]
    more = len(outcome.choices) - MAX_CHOICES
    return "Your key results: " + " · ".join(shown) + (f" and {more} more" if more > 0 else "")


def summary(outcome: ReplyOutcome) -> str:
    """The message's plain text (notifications, screen readers)."""
    done, bad = len(outcome.recorded), len(outcome.problems)
    if outcome.help or (not done and not bad):
        return "How to check in by replying here."
    if not bad:
        return f"Recorded {count(done, 'check-in')}."
    if not done:
        return f"I did not understand {count(bad, 'line')}: nothing was recorded."
    return (f"Recorded {count(done, 'check-in')}; I did not understand "
            f"{count(bad, 'line')}, and stored nothing from {pick(bad, 'it', 'them')}.")


def reply_message(outcome: ReplyOutcome) -> dict[str, Any]:
    """``{"text", "blocks"}`` for chat.postMessage in the DM thread."""
    blocks: list[dict[str, Any]] = []
    recorded, problems = outcome.recorded, outcome.problems
    if recorded:
        head = f":white_check_mark: Recorded {count(len(recorded), 'check-in')}:"
        blocks.append(section("\n".join([head, *map(recorded_line, recorded)])))
    if problems:
        head = (f":warning: I did not understand {count(len(problems), 'line')}, so nothing "
                f"was stored from {pick(len(problems), 'it', 'them')}:")
        blocks.append(section("\n".join([head, *map(problem_line, problems)])))
    if problems or outcome.help or not recorded:
        blocks.append(context(FORMAT, _choices(outcome)))
        if outcome.choices:
            blocks.append({"type": "actions", "block_id": "okr_reply_actions", "elements": [
                button("Check in", Action.OPEN_CHECKIN.value, open_value(), style="primary")]})
    return {"text": summary(outcome), "blocks": blocks}


__all__ = ["problem_line", "recorded_line", "reply_message", "summary"]
