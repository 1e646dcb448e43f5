"""What Slack would submit for a view: each input's initial value, with overrides.

``submitted_values(view, {"ci_value:kr1": "42", "ci_status:kr1": "red"})`` returns
``view.state.values`` as Slack sends it: number and text inputs carry ``value``, selects and
radios ``selected_option``, checkboxes ``selected_options``, date pickers ``selected_date``
user pickers ``selected_user``, conversation pickers ``selected_conversation`` and time
pickers ``selected_time``. An override may be a plain value (a string for text and
numbers, an option value for selects/radios, a list of option values for checkboxes, a user
id, a date) or a dict used as the raw action state.
"""

from __future__ import annotations

from typing import Any


def _find_option(el: dict[str, Any], value: str) -> dict[str, Any]:
    for opt in el.get("options") or []:
        if opt["value"] == value:
            return dict(opt)
    # Not offered by the view: what a forged request would send.
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def _state(el: dict[str, Any], override: Any = None, use_override: bool = False) -> dict[str, Any]:
    kind = el["type"]
    if isinstance(override, dict):
        return {"type": kind, **override}
    if kind in ("number_input", "plain_text_input", "email_text_input", "url_text_input"):
        value = override if use_override else el.get("initial_value")
        return {"type": kind, "value": value}
    if kind in ("static_select", "external_select", "radio_buttons"):
        if use_override:
            chosen = None if override is None else _find_option(el, str(override))
        else:
            chosen = el.get("initial_option")
        return {"type": kind, "selected_option": chosen}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": override if use_override
                else el.get("initial_conversation")}
    if kind == "timepicker":
        return {"type": kind, "selected_time": override if use_override
                else el.get("initial_time")}
    if kind in ("checkboxes", "multi_static_select"):
        if use_override:
            ticked = [_find_option(el, str(v)) for v in (override or [])]
        else:
            ticked = list(el.get("initial_options") or [])
        return {"type": kind, "selected_options": ticked}
    if kind == "datepicker":
        return {"type": kind, "selected_date": override if use_override
                else el.get("initial_date")}
    if kind == "users_select":
        return {"type": kind, "selected_user": override if use_override
                else el.get("initial_user")}
    raise AssertionError(f"unknown element type {kind}")


def submitted_values(view: dict[str, Any], overrides: dict[str, Any] | None = None,
                     *, extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        el = block["element"]
        bid = block["block_id"]
        use = bid in overrides
        values[bid] = {el["action_id"]: _state(el, overrides.pop(bid, None), use)}
    assert not overrides, f"overrides for blocks not in the view: {sorted(overrides)}"
    values.update(extra or {})
    return values
