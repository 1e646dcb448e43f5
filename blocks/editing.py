"""Modals to create an objective with its KRs, and to edit an objective or a KR.

Objective inputs use ``Block.OBJ_*`` block ids; the i-th KR slot of the creation modal uses
``f"{Block.KR_*}:{i}"``; the single-KR edit modal uses plain ``Block.KR_*``. The alignment
picker is an ``external_select`` (``Action.ALIGN_SELECT``) so it scales past 100 options;
its options are ``o:<objective key>`` / ``k:<kr key>``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain import KRType
from blocks.common import button, clip, context, escape, num, option, plain, section
from blocks.ids import Action, Block, Callback

MAX_SLOTS = 6
TYPE_LABELS = {
    KRType.INCREASE: "Increase a number", KRType.DECREASE: "Decrease a number",
    KRType.ABOVE: "Stay above a threshold", KRType.BELOW: "Stay below a threshold",
    KRType.PERCENT: "Percent complete", KRType.MILESTONE: "Milestone (done or not)",
    KRType.MANUAL: "Scored by the owner", KRType.ISSUES: "Linked issues",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class ObjectiveForm:
    """What the objective part of a modal starts with."""

    cycles: Sequence[Choice]
    teams: Sequence[Choice]
    cycle: str | None = None
    team: str | None = None
    owner_slack_id: str | None = None
    title: str = ""
    align: Choice | None = None
    visibility: str = "public"
    commitment: str = "committed"


@dataclass(frozen=True)
class KRForm:
    title: str = ""
    kr_type: str | None = None
    start: float | None = None
    target: float | None = None
    unit: str | None = None
    weight: float | None = None
    owner_slack_id: str | None = None
    state: str | None = None
    due: date | None = None
    targets: str = ""  # one "YYYY-MM-DD value" per line
    query: str = ""  # the saved search, one line (app.services.links.query_specs)


def _id(block: Block, slot: int | None) -> str:
    return str(block) if slot is None else f"{block}:{slot}"


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "input", "block_id": block_id, "label": plain(label, 2000),
                           "optional": optional, "element": {**element, "action_id": block_id}}
    if hint:
        out["hint"] = plain(hint, 2000)
    return out


def _static(choices: Sequence[Choice], initial: str | None, placeholder: str) -> dict[str, Any]:
    opts = [option(c.label, c.value) for c in choices[:100]]
    el: dict[str, Any] = {"type": "static_select", "options": opts,
                          "placeholder": plain(placeholder, 150)}
    chosen = next((o for o in opts if o["value"] == initial), None)
    if chosen is not None:
        el["initial_option"] = chosen
    return el


def _radio(pairs: Sequence[tuple[str, str]], initial: str) -> dict[str, Any]:
    opts = [option(label, value) for value, label in pairs]
    el: dict[str, Any] = {"type": "radio_buttons", "options": opts}
    chosen = next((o for o in opts if o["value"] == initial), None)
    if chosen is not None:
        el["initial_option"] = chosen
    return el


def _number(initial: float | None, *, decimal: bool = True) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": decimal}
    if initial is not None:
        # Full precision: a value shown rounded would come back changed on save.
        el["initial_value"] = num(initial).replace(",", "") if abs(initial) >= 1e15 \
            else f"{initial:.15g}"
    return el


def _text(initial: str | None, *, max_length: int, multiline: bool = False,
          placeholder: str | None = None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "plain_text_input", "max_length": max_length,
                          "multiline": multiline}
    if initial:
        el["initial_value"] = clip(initial, max_length)
    if placeholder:
        el["placeholder"] = plain(placeholder, 150)
    return el


def _users(initial: str | None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "users_select"}
    if initial:
        el["initial_user"] = initial
    return el


def objective_blocks(form: ObjectiveForm) -> list[dict[str, Any]]:
    align: dict[str, Any] = {"type": "external_select", "min_query_length": 0,
                             "placeholder": plain("Search objectives and key results", 150)}
    if form.align is not None:
        align["initial_option"] = option(form.align.label, form.align.value)
    blocks = [
        _input(str(Block.OBJ_TITLE), "Objective",
               _text(form.title, max_length=500,
                     placeholder="Qualitative and inspiring, e.g. Delight new customers")),
        _input(str(Block.OBJ_CYCLE), "Cycle", _static(form.cycles, form.cycle, "Pick a cycle")),
        _input(str(Block.OBJ_OWNER), "Owner", _users(form.owner_slack_id)),
        _input(str(Block.OBJ_ALIGN), "Aligned to", align, optional=True,
               hint="The objective or key result above this one, if any."),
        _input(str(Block.OBJ_VISIBILITY), "Visibility",
               _radio([("public", "Everyone"), ("private", "Owner, team lead and admins")],
                      form.visibility)),
        _input(str(Block.OBJ_COMMITMENT), "Commitment",
               _radio([("committed", "Committed (expect 100%)"),
                       ("aspirational", "Aspirational (70% is a success)")], form.commitment)),
    ]
    if form.teams:
        blocks.insert(2, _input(str(Block.OBJ_TEAM), "Team",
                                _static(form.teams, form.team, "Pick a team"), optional=True))
    # The alignment picker's action id is what its options load listener matches on.
    for b in blocks:
        if b["block_id"] == str(Block.OBJ_ALIGN):
            b["element"]["action_id"] = str(Action.ALIGN_SELECT)
    return blocks


def kr_blocks(form: KRForm, slot: int | None, *, required: bool) -> list[dict[str, Any]]:
    types = [Choice(t.value, label) for t, label in TYPE_LABELS.items()]
    label = "Key result" if slot is None else f"Key result {slot + 1}"
    return [
        _input(_id(Block.KR_TITLE, slot), label,
               _text(form.title, max_length=500,
                     placeholder="Measurable, e.g. Cut time-to-first-value from 14 to 5 days"),
               optional=not required),
        _input(_id(Block.KR_TYPE, slot), "Type",
               _static(types, form.kr_type or KRType.INCREASE.value, "How is it measured?"),
               optional=not required),
        _input(_id(Block.KR_START, slot), "Start", _number(form.start), optional=True,
               hint="Increase and decrease: where it starts."),
        _input(_id(Block.KR_TARGET, slot), "Target", _number(form.target), optional=True,
               hint="The goal, or the threshold for above/below."),
        _input(_id(Block.KR_UNIT, slot), "Unit", _text(form.unit, max_length=32,
                                                       placeholder="days, users, €..."),
               optional=True),
        _input(_id(Block.KR_WEIGHT, slot), "Weight", _number(form.weight or 1.0),
               optional=True, hint="Relative importance within the objective (1 is normal)."),
        _input(_id(Block.KR_OWNER, slot), "KR owner", _users(form.owner_slack_id),
               optional=True),
        _input(_id(Block.KR_QUERY, slot), "Saved search",
               _text(form.query, max_length=2300,
                     placeholder="gitlab acme/web labels=okr-q1"), optional=True,
               hint="Linked issues: follow a search instead of (or besides) fixed links, e.g. "
                    "gitlab group/project labels=a,b milestone=Q1 · github owner/repo "
                    "labels=a · jira host JQL · linear org project. Empty: none."),
    ]


def new_objective_modal(form: ObjectiveForm, slots: int = 3,
                        krs: Sequence[KRForm] = ()) -> dict[str, Any]:
    slots = max(1, min(slots, MAX_SLOTS))
    blocks: list[dict[str, Any]] = [section(
        "An objective says where you want to be; its key results say how you will know.")]
    blocks += objective_blocks(form)
    for i in range(slots):
        blocks.append(section(f"*Key result {i + 1}*" + (" (optional)" if i else "")))
        blocks += kr_blocks(krs[i] if i < len(krs) else KRForm(), i, required=i == 0)
    if slots < MAX_SLOTS:
        blocks.append({"type": "actions", "block_id": "add_kr", "elements": [
            button("Add a key result", str(Action.ADD_KR), str(slots + 1))]})
    return {"type": "modal", "callback_id": str(Callback.NEW_OBJECTIVE),
            "title": plain("New objective", 24), "submit": plain("Create", 24),
            "close": plain("Cancel", 24), "blocks": blocks,
            "private_metadata": json.dumps({"n": slots})}


def edit_objective_modal(key: str, form: ObjectiveForm) -> dict[str, Any]:
    return {"type": "modal", "callback_id": str(Callback.EDIT_OBJECTIVE),
            "title": plain("Edit objective", 24), "submit": plain("Save", 24),
            "close": plain("Cancel", 24), "private_metadata": json.dumps({"k": key}),
            "blocks": [context(f"`{key}`"), *objective_blocks(form)]}


def _date(initial: date | None) -> dict[str, Any]:
    el: dict[str, Any] = {"type": "datepicker"}
    if initial is not None:
        el["initial_date"] = initial.isoformat()
    return el


def plan_blocks(form: KRForm) -> list[dict[str, Any]]:
    """The KR's plan: a milestone's due date and phased targets (edit modal only)."""
    return [
        _input(str(Block.KR_DUE), "Due date", _date(form.due), optional=True,
               hint="Milestones: at risk in the last 7 days before it, off track after it. "
                    "Empty: the cycle's last day."),
        _input(str(Block.KR_TARGETS), "Phased targets",
               _text(form.targets, max_length=1000, multiline=True,
                     placeholder="2026-03-01 200"), optional=True,
               hint="Increase and decrease: one date and value per line; the expected pace "
                    "runs through them instead of a straight line."),
    ]


def edit_kr_modal(key: str, objective_title: str, form: KRForm) -> dict[str, Any]:
    states = [("active", "Active"), ("paused", "Paused"), ("done", "Done")]
    blocks = [context(f"`{key}` in _{escape(clip(objective_title, 200))}_"),
              *kr_blocks(form, None, required=True), *plan_blocks(form),
              _input(str(Block.KR_STATE), "State", _radio(states, form.state or "active")),
              _input(str(Block.KR_REASON), "Why the target or weight changes",
                     _text(None, max_length=1000, multiline=True), optional=True,
                     hint="Needed when you change the target or the weight: it is kept in "
                          "the key result's history and told in the team's digest.")]
    return {"type": "modal", "callback_id": str(Callback.EDIT_KR),
            "title": plain("Edit key result", 24), "submit": plain("Save", 24),
            "close": plain("Cancel", 24), "private_metadata": json.dumps({"k": key}),
            "blocks": blocks}


def align_options(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The answer to the alignment picker's options load (at most 100)."""
    return {"options": [option(label, value) for value, label in pairs[:100]]}


# --- reading submissions ----------------------------------------------------------------------


def _action(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    actions = values.get(block_id)
    if not isinstance(actions, Mapping):
        return {}
    found = next((a for a in actions.values() if isinstance(a, Mapping)), None)
    return found or {}


def read_text(values: Mapping[str, Any], block_id: str) -> str | None:
    v = _action(values, block_id).get("value")
    return v.strip() or None if isinstance(v, str) else None


def read_choice(values: Mapping[str, Any], block_id: str) -> str | None:
    opt = _action(values, block_id).get("selected_option")
    if isinstance(opt, Mapping) and isinstance(opt.get("value"), str):
        return str(opt["value"])
    return None


def read_date(values: Mapping[str, Any], block_id: str) -> date | None:
    """A datepicker's date; None when empty (Slack only sends valid dates)."""
    v = _action(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(v) if isinstance(v, str) and v else None
    except ValueError:
        return None


def read_user(values: Mapping[str, Any], block_id: str) -> str | None:
    v = _action(values, block_id).get("selected_user")
    return v if isinstance(v, str) and v else None


def read_number(values: Mapping[str, Any], block_id: str) -> float | str | None:
    """A float, None when empty, or the raw string when it is not a number (for an error)."""
    raw = read_text(values, block_id)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def slot_count(private_metadata: str | None) -> int:
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        return 1
    n = data.get("n") if isinstance(data, dict) else None
    return n if isinstance(n, int) and 1 <= n <= MAX_SLOTS else 1


def meta_key(private_metadata: str | None) -> str | None:
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        return None
    key = data.get("k") if isinstance(data, dict) else None
    return key[:100] if isinstance(key, str) else None


def kr_block_id(block: Block, slot: int | None) -> str:
    return _id(block, slot)
