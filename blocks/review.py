"""End-of-cycle Block Kit: the scoring DM, the self-score, lead review and reflection modals,
and the retrospective digest. Pure: rows in, dicts out.

Per-KR inputs use ``f"{Block.REVIEW_*}:{kr_key}"`` as block and action id. Scores are picked
from a static select of 0.0, 0.1 ... 1.0 (values ``"0.0"`` ... ``"1.0"``); the server checks
them again. ``private_metadata`` carries the cycle name only: who may score what is decided on
the server from the verified user.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from blocks import words
from blocks.common import (
    button,
    clip,
    context,
    divider,
    escape,
    local_date,
    option,
    pct,
    plain,
    section,
)
from blocks.ids import Action, Block, Callback

# Four blocks per KR, within the 100 blocks of a modal (with room for the intro).
MAX_ROWS = 24
TEXT_MAX = 3000
# Shown as percentages like every score in Slack; the values stay 0.0 ... 1.0.
SCORE_OPTIONS = [option(f"{t * 10}%", f"{t / 10:.1f}") for t in range(11)]
WHOLE_CYCLE = "_cycle"


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One KR as the scoring modals show it."""

    kr_key: str
    kr_title: str
    objective_title: str
    owner_name: str | None
    progress: str  # mrkdwn, escaped (blocks.common.kr_progress_text): "14 → *9* → 5 days"
    computed: float
    self_score: float | None = None
    evidence: str | None = None
    final: float | None = None
    reason: str | None = None


def bid(prefix: Block, kr_key: str) -> str:
    return f"{prefix}:{kr_key}"


def meta(cycle_name: str) -> str:
    return json.dumps({"cycle": cycle_name})


def cycle_of(private_metadata: str | None) -> str | None:
    try:
        data = json.loads(private_metadata or "")
    except ValueError:
        return None
    name = data.get("cycle") if isinstance(data, dict) else None
    return str(name)[:64] if isinstance(name, str) and name else None


def _score_select(prefix: Block, key: str, label: str, initial: float | None,
                  hint: str) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "static_select", "action_id": bid(prefix, key),
                          "placeholder": plain("Pick a score", 150), "options": SCORE_OPTIONS}
    if initial is not None:
        el["initial_option"] = SCORE_OPTIONS[min(max(round(initial * 10), 0), 10)]
    return {"type": "input", "block_id": bid(prefix, key), "label": plain(label),
            "hint": plain(hint, 2000), "element": el}


def _text(prefix: Block, key: str, label: str, initial: str | None, *, hint: str = "",
          placeholder: str = "") -> dict[str, Any]:
    el: dict[str, Any] = {"type": "plain_text_input", "action_id": bid(prefix, key),
                          "multiline": True, "max_length": TEXT_MAX}
    if initial:
        el["initial_value"] = clip(initial, TEXT_MAX)
    if placeholder:
        el["placeholder"] = plain(placeholder, 150)
    block: dict[str, Any] = {"type": "input", "block_id": bid(prefix, key), "optional": True,
                             "label": plain(label), "element": el}
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _head(row: ScoreRow, extra: str) -> dict[str, Any]:
    return section(f"*{escape(clip(row.kr_title, 300))}*\n"
                   f"_{escape(clip(row.objective_title, 200))}_ · {row.progress}\n{extra}",
                   block_id=bid(Block.REVIEW_KR, row.kr_key))


def _modal(callback: Callback, title: str, submit: str, cycle_name: str,
           blocks: list[dict[str, Any]]) -> dict[str, Any]:
    if blocks and blocks[-1]["type"] == "divider":
        blocks.pop()
    return {"type": "modal", "callback_id": str(callback), "title": plain(title, 24),
            "submit": plain(submit, 24), "close": plain("Cancel", 24),
            "private_metadata": meta(cycle_name), "blocks": blocks}


def _more(rows: Sequence[ScoreRow]) -> list[dict[str, Any]]:
    if len(rows) <= MAX_ROWS:
        return []
    return [context(f"{len(rows) - MAX_ROWS} more after you save this page: open it again "
                    "from the message.")]


def self_score_modal(rows: Sequence[ScoreRow], *, cycle_name: str,
                     deadline: date | None = None) -> dict[str, Any]:
    due = f" by {local_date(deadline)}" if deadline else ""
    blocks = [section(f"Score your key results for *{escape(cycle_name)}*{due}: 0% is no "
                      "progress, 70% strong progress, 100% fully achieved. Add the evidence "
                      "your lead will look at.")]
    for row in rows[:MAX_ROWS]:
        start = row.self_score if row.self_score is not None else row.computed
        blocks += _row(row, f"Computed score: *{pct(row.computed)}*",
                       (Block.REVIEW_SELF, "Your score", start,
                        "Preselected: your earlier score, else the computed one."),
                       (Block.REVIEW_EVIDENCE, "Evidence", row.evidence),
                       placeholder="Links, numbers, what shipped")
    return _modal(Callback.SELF_SCORE, "Self-score", "Save scores", cycle_name,
                  blocks + _more(rows))


def _row(row: ScoreRow, head: str, score: tuple[Block, str, float, str],
         text: tuple[Block, str, str | None], **text_options: str) -> list[dict[str, Any]]:
    """One KR of a scoring modal: its header, the score select and one text input."""
    score_block, score_label, start, score_hint = score
    text_block, text_label, text_value = text
    return [_head(row, head),
            _score_select(score_block, row.kr_key, score_label, start, score_hint),
            _text(text_block, row.kr_key, text_label, text_value, **text_options),
            divider()]


def lead_review_modal(rows: Sequence[ScoreRow], *, cycle_name: str) -> dict[str, Any]:
    blocks = [section(f"Agree the final scores for *{escape(cycle_name)}*. Final scores are "
                      "what reports use; when one differs from the self score, say why.")]
    for row in rows[:MAX_ROWS]:
        own = f"*{pct(row.self_score)}*" if row.self_score is not None else "_not yet_"
        who = f" ({escape(row.owner_name)})" if row.owner_name else ""
        evidence = f"\n> {escape(clip(row.evidence, 500))}" if row.evidence else ""
        start = row.final if row.final is not None else (
            row.self_score if row.self_score is not None else row.computed)
        blocks += _row(row, f"Computed *{pct(row.computed)}* · self{who} {own}{evidence}",
                       (Block.REVIEW_FINAL, "Final score", start,
                        "Preselected: the self score (or the computed one)."),
                       (Block.REVIEW_REASON, "Reason", row.reason),
                       hint="Required when the final score differs from the self score.")
    return _modal(Callback.LEAD_REVIEW, "Review scores", "Save final scores", cycle_name,
                  blocks + _more(rows))


def reflect_modal(objectives: Sequence[tuple[str, str]], *, cycle_name: str,
                  chosen: str | None = None) -> dict[str, Any]:
    """Reflection on one objective (``(key, title)`` pairs) or on the cycle as a whole."""
    whole = option("The cycle as a whole", WHOLE_CYCLE)
    opts = [whole] + [option(clip(title, 70), key) for key, title in objectives[:99]]
    initial = next((o for o in opts if o["value"] == chosen), whole)
    blocks: list[dict[str, Any]] = [
        section(f"Look back on *{escape(cycle_name)}*: what worked, what did not, and what to "
                "carry into the next cycle."),
        {"type": "input", "block_id": str(Block.REFLECT_OBJECTIVE), "label": plain("About"),
         "element": {"type": "static_select", "action_id": str(Block.REFLECT_OBJECTIVE),
                     "options": opts, "initial_option": initial}},
    ]
    for prefix, label in ((Block.REFLECT_WORKED, "What worked"),
                          (Block.REFLECT_DID_NOT, "What did not"),
                          (Block.REFLECT_CARRY, "What to carry forward")):
        blocks.append({"type": "input", "block_id": str(prefix), "optional": True,
                       "label": plain(label),
                       "element": {"type": "plain_text_input", "action_id": str(prefix),
                                   "multiline": True, "max_length": TEXT_MAX}})
    return _modal(Callback.REFLECT, "Reflect", "Save", cycle_name, blocks)


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "callback_id": str(Callback.SELF_SCORE), "title": plain(title, 24),
            "close": plain("Close", 24), "blocks": [section(text)]}


# --- reading submissions -----------------------------------------------------------------------


def _value(action: Mapping[str, Any]) -> str | None:
    opt = action.get("selected_option")
    if isinstance(opt, Mapping) and isinstance(opt.get("value"), str):
        return str(opt["value"])
    value = action.get("value")
    return str(value).strip() or None if value is not None else None


def parse_scores(values: Mapping[str, Any], score: Block,
                 note: Block) -> list[tuple[str, str | None, str | None]]:
    """``(kr_key, score text, note)`` per KR in the submission; unknown blocks are ignored."""
    found: dict[str, dict[str, str | None]] = {}
    for block_id, actions in values.items():
        prefix, _, key = str(block_id).partition(":")
        if not key or prefix not in (score.value, note.value) or not isinstance(actions, Mapping):
            continue
        action = actions.get(block_id)
        if isinstance(action, Mapping):
            found.setdefault(key, {})[prefix] = _value(action)
    return [(key, got.get(score.value), got.get(note.value)) for key, got in found.items()]


def parse_reflection(values: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name, block in (("objective", Block.REFLECT_OBJECTIVE), ("worked", Block.REFLECT_WORKED),
                        ("did_not_work", Block.REFLECT_DID_NOT),
                        ("carry_forward", Block.REFLECT_CARRY)):
        action = (values.get(str(block)) or {}).get(str(block))
        out[name] = _value(action) if isinstance(action, Mapping) else None
    if out["objective"] == WHOLE_CYCLE:
        out["objective"] = None
    return out


# --- messages ----------------------------------------------------------------------------------


def review_dm(*, first_name: str, cycle_name: str, deadline: date, self_count: int,
              final_count: int, reminder: bool = False) -> dict[str, Any]:
    """The DM asking someone for their scores (``reminder`` for the daily follow-ups);
    ``first_name`` may be the whole name: the DM says only its first word."""
    asks = []
    if self_count:
        asks.append(f"self-score *{self_count}* {words.noun(self_count, 'key result')}")
    if final_count:
        asks.append(f"agree *{final_count}* {words.noun(final_count, 'final score')} "
                    "with your team")
    ask = " and ".join(asks) or "reflect on the cycle"
    lead = "Reminder: " if reminder else f"Hi {escape(words.first_name(first_name))}, "
    text = (f"{lead}*{escape(cycle_name)}* is in review. Please {ask} by "
            f"{local_date(deadline)}.")
    buttons = []
    if self_count:
        buttons.append(button("Self-score", str(Action.OPEN_SELF_SCORE), cycle_name,
                              style="primary"))
    if final_count:
        buttons.append(button("Review my team", str(Action.OPEN_LEAD_REVIEW), cycle_name,
                              style="primary" if not self_count else None))
    buttons.append(button("Reflect", str(Action.OPEN_REFLECT), cycle_name))
    return {"text": text.replace("*", ""), "blocks": [
        section(text), {"type": "actions", "elements": buttons},
        context("Scores go from 0% to 100%; 60–70% is the sweet spot for ambitious OKRs."),
    ]}


def retro_message(text: str, *, cycle_name: str) -> dict[str, Any]:
    """The retrospective digest (mrkdwn from ``review_text.retro_text``), split into sections
    under Slack's 3,000-character limit."""
    blocks: list[dict[str, Any]] = []
    chunk = ""
    for para in text.strip().split("\n\n"):
        if chunk and len(chunk) + len(para) + 2 > 2900:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n\n{para}" if chunk else para[:2900]
    if chunk:
        blocks.append(section(chunk))
    blocks.append(context("Full report with charts: `/okr report`. Reflections: `/okr reflect`."))
    return {"text": f"Retrospective: {escape(cycle_name)}", "blocks": blocks[:50]}


def report_comment(cycle_name: str, *, fmt: str) -> str:
    return (f"The *{escape(cycle_name)}* OKR report ({fmt.upper()}, private objectives left out)."
            " Download it and open it in a browser.")
