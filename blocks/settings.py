"""The settings modals: the organisation's (admins), a team's (leads) and one's own.

Each schedule is three inputs, ``f"{prefix}_cadence"``, ``f"{prefix}_day"`` and
``f"{prefix}_time"`` (prefix ``Block.SET_CHECKIN`` or ``Block.SET_DIGEST``); the handler reads
them back with :func:`read_state` into the plain values the settings service checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from app.calendar import cadence, timeline
from blocks.common import context, escape, plain, usergroup_picker
from blocks.ids import Block, Callback

_CADENCE_LABELS = {"weekly": "Every week", "biweekly": "Every 2 weeks",
                   "every_3_weeks": "Every 3 weeks", "every_4_weeks": "Every 4 weeks",
                   "monthly": "Monthly (first such day)"}
CADENCES = tuple((c, _CADENCE_LABELS.get(c, c)) for c in cadence.CADENCES)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAYS = tuple(zip(cadence.WEEKDAYS, _DAY_NAMES, strict=True))
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
_PRESET_LABELS = {"none": "None", "okr-cycle": "OKR cycle", "gitlab-product": "GitLab product"}
PRESETS = tuple((p, _PRESET_LABELS.get(p, p)) for p in timeline.PRESETS_NAMES)
SCHEDULE_PARTS = ("cadence", "day", "time")


def _opt(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, 75), "value": value}


def _input(block: str, label: str, element: dict[str, Any], *, optional: bool = True,
           hint: str | None = None) -> dict[str, Any]:
    out = {"type": "input", "block_id": block, "optional": optional, "label": plain(label),
           "element": {"action_id": block, **element}}
    if hint:
        out["hint"] = plain(hint)
    return out


def _select(block: str, label: str, options: Sequence[tuple[str, str]], initial: str | None,
            **kw: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select",
                               "options": [_opt(v, t) for v, t in options]}
    found = [_opt(v, t) for v, t in options if v == initial]
    if found:
        element["initial_option"] = found[0]
    return _input(block, label, element, **kw)


def _text(block: str, label: str, initial: str | None, *, max_length: int = 200,
          **kw: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return _input(block, label, element, **kw)


def schedule_inputs(prefix: Block, label: str, stored: Mapping[str, Any] | None,
                    hint: str) -> list[dict[str, Any]]:
    stored = stored or {}
    days = stored.get("day")
    days = [days] if isinstance(days, str) else list(days or [])
    day_el: dict[str, Any] = {"type": "multi_static_select",
                              "options": [_opt(v, t) for v, t in DAYS]}
    if days:
        day_el["initial_options"] = [_opt(v, t) for v, t in DAYS if v in days]
    time_el: dict[str, Any] = {"type": "timepicker"}
    if stored.get("time"):
        time_el["initial_time"] = str(stored["time"])
    return [
        _select(f"{prefix}_cadence", f"{label}: how often", CADENCES,
                stored.get("cadence") or ("weekly" if stored else None)),
        _input(f"{prefix}_day", f"{label}: day", day_el),
        _input(f"{prefix}_time", f"{label}: time", time_el, hint=hint),
    ]


def work_week_inputs(form: Mapping[str, Any], *, whose: str,
                     empty: str) -> list[dict[str, Any]]:
    """Working days (checkboxes) and hours; ``empty`` says what applies when left empty."""
    days: dict[str, Any] = {"type": "checkboxes", "options": [_opt(v, t) for v, t in DAYS]}
    chosen = [d for d in form.get("work_days") or [] if d in cadence.WEEKDAYS]
    if chosen:
        days["initial_options"] = [_opt(v, t) for v, t in DAYS if v in chosen]
    return [
        _input(str(Block.SET_WORK_DAYS), f"{whose} working days", days,
               hint=f"No check-in prompts or reminders on other days. Empty: {empty}"),
        _text(str(Block.SET_WORK_HOURS), f"{whose} working hours", form.get("work_hours"),
              max_length=11, hint="Like 08:00-19:00: direct messages wait for these hours. "
                                  f"Empty: {empty}"),
    ]


def org_modal(form: Mapping[str, Any]) -> dict[str, Any]:
    admins: dict[str, Any] = {"type": "multi_users_select"}
    if form.get("admins"):
        admins["initial_users"] = list(form["admins"])[:100]
    blocks = [
        _text(str(Block.SET_NAME), "Organisation name", form.get("name"), optional=False),
        _text(str(Block.SET_TZ), "Time zone", form.get("timezone"), max_length=64,
              optional=False, hint="An IANA name, e.g. Europe/Berlin: digests and the "
                                   "planning timeline follow it."),
        _select(str(Block.SET_FY_START), "Fiscal year starts in",
                [(str(i + 1), m) for i, m in enumerate(MONTHS)],
                str(form.get("fiscal_year_start_month") or 1), optional=False),
        _select(str(Block.SET_TIMELINE), "Planning timeline", PRESETS,
                form.get("timeline") or "none", optional=False),
        _text(str(Block.SET_HOLIDAYS), "Public holidays of", form.get("holidays"),
              max_length=8, hint="A country code such as DE or DE-BY: no prompts on its "
                                 "public holidays. Empty: none."),
        *work_week_inputs(form, whose="Organisation",
                          empty="Monday to Friday, 08:00-19:00."),
        *schedule_inputs(Block.SET_CHECKIN, "Check-ins", form.get("checkin"),
                         "Everyone's default, in each person's own time zone. Empty: "
                         "Mondays at 10:00."),
        *schedule_inputs(Block.SET_DIGEST, "Digests", form.get("digest"),
                         "Every team's default, in the organisation's time zone. Empty: "
                         "Fridays at 16:00."),
        _input(str(Block.SET_ADMINS), "OKR admins", admins, optional=False),
    ]
    return _modal(Callback.ORG_SETTINGS, "Settings", blocks)


MEMBER_KINDS = (("none", "By hand (/okr team add and remove)"),
                ("channel", "The members of a channel"),
                ("usergroup", "The members of a user group"))


def members_inputs(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Where the team's members come from: by hand, a channel or a user group (found by
    typing; see :func:`blocks.common.usergroup_picker`)."""
    kind, current = form.get("members_kind") or "none", form.get("members_from")
    channel: dict[str, Any] = {"type": "conversations_select",
                               "filter": {"include": ["public", "private"],
                                          "exclude_bot_users": True}}
    if kind == "channel" and current:
        channel["initial_conversation"] = current
    group = _input(str(Block.SET_MEMBERS_GROUP), "Members: user group",
                   usergroup_picker(current if kind == "usergroup" else None),
                   hint="The team's members become the group's and follow it.")
    return [
        _select(str(Block.SET_MEMBERS_KIND), "Members come from", MEMBER_KINDS, kind,
                hint="From a channel or a user group, people who join or leave it join or "
                     "leave the team (their check-ins stay); people added by hand who are "
                     "not in it leave the team."),
        _input(str(Block.SET_MEMBERS_CHANNEL), "Members: channel", channel,
               hint="Used when members come from a channel. Invite the app to it."),
        group,
    ]


def team_modal(form: Mapping[str, Any]) -> dict[str, Any]:
    channel: dict[str, Any] = {"type": "conversations_select",
                               "filter": {"include": ["public", "private"],
                                          "exclude_bot_users": True}}
    if form.get("channel"):
        channel["initial_conversation"] = form["channel"]
    blocks = [
        context(f"*{escape(str(form.get('name') or ''))}* `{escape(str(form.get('key')))}`"),
        _input(str(Block.SET_CHANNEL), "Digest channel", channel,
               hint="The team's digest is posted here. Invite the app to it."),
        *members_inputs(form),
        *schedule_inputs(Block.SET_CHECKIN, "Check-ins", form.get("checkin"),
                         "Empty: the organisation's."),
        *schedule_inputs(Block.SET_DIGEST, "Digests", form.get("digest"),
                         "Empty: the organisation's."),
    ]
    view = _modal(Callback.TEAM_SETTINGS, "Team settings", blocks)
    view["private_metadata"] = str(form.get("key") or "")[:100]
    return view


def _datepicker(initial: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "datepicker"}
    if isinstance(initial, date):
        out["initial_date"] = initial.isoformat()
    return out


def my_modal(form: Mapping[str, Any]) -> dict[str, Any]:
    nudges: dict[str, Any] = {"type": "checkboxes",
                              "options": [_opt("on", "Send me follow-up nudges")]}
    if form.get("nudges", True):
        nudges["initial_options"] = [_opt("on", "Send me follow-up nudges")]
    blocks = [
        *schedule_inputs(Block.SET_CHECKIN, "My check-ins", form.get("checkin"),
                         f"In your time zone ({form.get('tz') or 'UTC'}). "
                         "Empty: your team's."),
        *work_week_inputs(form, whose="My", empty="your team's, else the organisation's."),
        _text(str(Block.SET_HOLIDAY_CALENDAR), "My public holidays", form.get("holiday_calendar"),
              max_length=16, hint="A holiday calendar such as DE-BY, US or IN-KA: no prompts "
                                  "on its holidays. Empty: your team's, else the "
                                  "organisation's."),
        _input(str(Block.SET_AWAY_FROM), "Away from", _datepicker(form.get("away_from")),
               hint="The first day away. Empty: from now on."),
        _input(str(Block.SET_AWAY), "Away until", _datepicker(form.get("away_until")),
               hint="No check-in prompts until after this day. Empty: not away."),
        _input(str(Block.SET_NUDGES), "Nudges", nudges,
               hint="A follow-up when a check-in waits. The prompt itself always comes."),
    ]
    return _modal(Callback.MY_SETTINGS, "My settings", blocks)


def _modal(callback: Callback, title: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": str(callback), "title": plain(title, 24),
            "submit": plain("Save", 24), "close": plain("Cancel", 24), "blocks": blocks}


# --- reading a submission ---------------------------------------------------------------------


def _entry(state: Mapping[str, Any], block: str) -> Mapping[str, Any]:
    found = (state.get(block) or {}).get(block)
    return found if isinstance(found, Mapping) else {}


def _value(entry: Mapping[str, Any]) -> Any:
    if "selected_option" in entry:
        return (entry.get("selected_option") or {}).get("value")
    if "selected_options" in entry:
        return [o.get("value") for o in entry.get("selected_options") or []]
    for key in ("value", "selected_time", "selected_date", "selected_users",
                "selected_conversation", "selected_channel"):
        if key in entry:
            return entry[key]
    return None


def read_state(view: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values by field name (as the settings service names them)."""
    state = (view.get("state") or {}).get("values") or {}
    out: dict[str, Any] = {}
    for field, block in FIELDS.items():
        if block in state:
            out[field] = _value(_entry(state, block))
    for field, prefix in (("checkin", Block.SET_CHECKIN), ("digest", Block.SET_DIGEST)):
        if f"{prefix}_time" in state:
            out[field] = {part: _value(_entry(state, f"{prefix}_{part}"))
                          for part in SCHEDULE_PARTS}
    return out


# Field names of the settings service -> block ids.
FIELDS = {"name": str(Block.SET_NAME), "timezone": str(Block.SET_TZ),
          "fiscal_year_start_month": str(Block.SET_FY_START),
          "timeline": str(Block.SET_TIMELINE), "holidays": str(Block.SET_HOLIDAYS),
          "admins": str(Block.SET_ADMINS), "channel": str(Block.SET_CHANNEL),
          "away_until": str(Block.SET_AWAY), "away_from": str(Block.SET_AWAY_FROM),
          "work_days": str(Block.SET_WORK_DAYS), "work_hours": str(Block.SET_WORK_HOURS),
          "holiday_calendar": str(Block.SET_HOLIDAY_CALENDAR),
          "nudges": str(Block.SET_NUDGES), "members_kind": str(Block.SET_MEMBERS_KIND),
          "members_channel": str(Block.SET_MEMBERS_CHANNEL),
          "members_group": str(Block.SET_MEMBERS_GROUP)}


def error_block(field: str, blocks: Sequence[Mapping[str, Any]]) -> str:
    """The block that shows an error of ``field`` (``digest.time`` -> its time input)."""
    head, _, part = field.partition(".")
    if head in ("checkin", "digest"):
        prefix = Block.SET_CHECKIN if head == "checkin" else Block.SET_DIGEST
        block = f"{prefix}_{part if part in SCHEDULE_PARTS else 'cadence'}"
    else:
        block = FIELDS.get(head, "")
    ids = [str(b.get("block_id")) for b in blocks if b.get("type") == "input"]
    return block if block in ids else (ids[0] if ids else block)
