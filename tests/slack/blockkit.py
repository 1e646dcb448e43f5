"""Block Kit limits from Slack's Block Kit reference, as a validator for payloads we build.

``validate_message(payload)``, ``validate_view(view)`` and ``validate_options(body)`` return a
list of human-readable violations (empty when the payload is fine). The fake Slack server runs
them on every payload it receives; builder tests may call them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
# Unofficial: Slack answers msg_blocks_too_long above roughly this many characters of blocks.
MAX_MESSAGE_BLOCK_CHARS = 12_000

_SELECTS_WITH_OPTIONS = {"static_select", "multi_static_select"}
_CHOICE_ELEMENTS = {"radio_buttons", "checkboxes"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where
        self.problems: list[str] = []
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{self.where}: {path}: {message}")

    # --- composition objects ---------------------------------------------------------------

    def text(self, path: str, obj: Any, *, limit: int, plain_only: bool = False,
             required: bool = True) -> None:
        if obj is None:
            if required:
                self.bad(path, "text object missing")
            return
        if not isinstance(obj, Mapping):
            self.bad(path, f"text must be an object, got {type(obj).__name__}")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.bad(path, f"text type {kind!r} is not plain_text or mrkdwn")
        if plain_only and kind != "plain_text":
            self.bad(path, "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str):
            self.bad(path, "text.text must be a string")
            return
        if not value:
            self.bad(path, "text is empty")
        if len(value) > limit:
            self.bad(path, f"text is {len(value)} chars, limit {limit}")

    def option(self, path: str, opt: Any) -> None:
        if not isinstance(opt, Mapping):
            self.bad(path, "option must be an object")
            return
        self.text(f"{path}.text", opt.get("text"), limit=75)
        value = opt.get("value")
        if not isinstance(value, str) or not value:
            self.bad(f"{path}.value", "option value must be a non-empty string")
        elif len(value) > 150:
            self.bad(f"{path}.value", f"option value is {len(value)} chars, limit 150")
        if "description" in opt:
            self.text(f"{path}.description", opt["description"], limit=75)

    def options(self, path: str, opts: Any, *, low: int, high: int) -> list[str]:
        if not isinstance(opts, list):
            self.bad(path, "options must be a list")
            return []
        if not low <= len(opts) <= high:
            self.bad(path, f"{len(opts)} options, allowed {low}-{high}")
        values: list[str] = []
        for i, opt in enumerate(opts):
            self.option(f"{path}[{i}]", opt)
            if isinstance(opt, Mapping):
                values.append(str(opt.get("value")))
        if len(set(values)) != len(values):
            self.bad(path, "duplicate option values")
        return values

    # --- elements --------------------------------------------------------------------------

    def element(self, path: str, el: Any) -> None:
        if not isinstance(el, Mapping):
            self.bad(path, "element must be an object")
            return
        kind = str(el.get("type"))
        action_id = el.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str) or not 1 <= len(action_id) <= 255:
                self.bad(f"{path}.action_id", "action_id must be 1-255 chars")
            elif action_id in self.action_ids:
                self.bad(f"{path}.action_id", f"duplicate action_id {action_id!r}")
            else:
                self.action_ids.add(action_id)
        if "placeholder" in el:
            self.text(f"{path}.placeholder", el["placeholder"], limit=150, plain_only=True)
        if kind == "button":
            self.text(f"{path}.text", el.get("text"), limit=75, plain_only=True)
            value = el.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.bad(f"{path}.value", "button value must be a string of at most 2000 chars")
            if "url" in el and len(str(el["url"])) > 3000:
                self.bad(f"{path}.url", "url longer than 3000")
            if el.get("style") not in (None, "primary", "danger"):
                self.bad(f"{path}.style", f"unknown style {el.get('style')!r}")
        elif kind in _SELECTS_WITH_OPTIONS:
            if "option_groups" in el:
                groups = el["option_groups"]
                if not isinstance(groups, list) or not 1 <= len(groups) <= 100:
                    self.bad(f"{path}.option_groups", "1-100 option groups")
                values = []
                for gi, group in enumerate(groups or []):
                    self.text(f"{path}.option_groups[{gi}].label", group.get("label"), limit=75,
                              plain_only=True)
                    values += self.options(f"{path}.option_groups[{gi}].options",
                                           group.get("options"), low=1, high=100)
            else:
                values = self.options(f"{path}.options", el.get("options"), low=1, high=100)
            self._initial(path, el, values)
        elif kind in ("external_select", "multi_external_select"):
            for key in ("initial_option",):
                if key in el:
                    self.option(f"{path}.{key}", el[key])
            for i, opt in enumerate(el.get("initial_options") or []):
                self.option(f"{path}.initial_options[{i}]", opt)
        elif kind in _CHOICE_ELEMENTS:
            values = self.options(f"{path}.options", el.get("options"), low=1, high=10)
            self._initial(path, el, values)
        elif kind == "overflow":
            self.options(f"{path}.options", el.get("options"), low=1, high=5)
        elif kind == "plain_text_input":
            for key in ("min_length", "max_length"):
                if key in el and not (isinstance(el[key], int) and 0 <= el[key] <= 3000):
                    self.bad(f"{path}.{key}", "must be an integer 0-3000")
            if el.get("max_length") == 0:
                self.bad(f"{path}.max_length", "must be at least 1")
            initial = el.get("initial_value")
            if initial is not None and (not isinstance(initial, str) or len(initial) > 3000):
                self.bad(f"{path}.initial_value", "must be a string of at most 3000 chars")
        elif kind == "number_input":
            if not isinstance(el.get("is_decimal_allowed"), bool):
                self.bad(path, "number_input requires is_decimal_allowed (bool)")
            for key in ("min_value", "max_value", "initial_value"):
                if key in el and not isinstance(el[key], str):
                    self.bad(f"{path}.{key}", "must be a string")
                elif key in el:
                    try:
                        float(el[key])
                    except ValueError:
                        self.bad(f"{path}.{key}", f"{el[key]!r} is not a number")
        elif kind == "datepicker":
            initial = el.get("initial_date")
            if initial is not None and not (isinstance(initial, str) and _DATE.match(initial)):
                self.bad(f"{path}.initial_date", "must be YYYY-MM-DD")
        elif kind in ("users_select", "multi_users_select", "conversations_select",
                      "multi_conversations_select", "channels_select", "multi_channels_select",
                      "timepicker", "datetimepicker", "email_text_input", "url_text_input",
                      "image", "rich_text_input", "file_input"):
            pass
        else:
            self.bad(f"{path}.type", f"unknown element type {kind!r}")

    def _initial(self, path: str, el: Mapping[str, Any], values: list[str]) -> None:
        initial = el.get("initial_option")
        if initial is not None:
            self.option(f"{path}.initial_option", initial)
            if isinstance(initial, Mapping) and str(initial.get("value")) not in values:
                self.bad(f"{path}.initial_option", "initial_option is not one of the options")
        for i, opt in enumerate(el.get("initial_options") or []):
            self.option(f"{path}.initial_options[{i}]", opt)
            if isinstance(opt, Mapping) and str(opt.get("value")) not in values:
                self.bad(f"{path}.initial_options[{i}]", "not one of the options")

    # --- blocks ----------------------------------------------------------------------------

    def blocks(self, blocks: Any, *, limit: int, surface: str) -> None:
        if not isinstance(blocks, list):
            self.bad("blocks", "blocks must be a list")
            return
        if len(blocks) > limit:
            self.bad("blocks", f"{len(blocks)} blocks, limit {limit} for a {surface}")
        for i, block in enumerate(blocks):
            self.block(f"blocks[{i}]", block, surface=surface)

    def block(self, path: str, block: Any, *, surface: str) -> None:
        if not isinstance(block, Mapping):
            self.bad(path, "block must be an object")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 1 <= len(block_id) <= 255:
                self.bad(f"{path}.block_id", "block_id must be 1-255 chars")
            elif block_id in self.block_ids:
                self.bad(f"{path}.block_id", f"duplicate block_id {block_id!r}")
            else:
                self.block_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.bad(path, "section needs text or fields")
            if "text" in block:
                self.text(f"{path}.text", block["text"], limit=3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                    self.bad(f"{path}.fields", "1-10 fields")
                for j, f in enumerate(fields or []):
                    self.text(f"{path}.fields[{j}]", f, limit=2000)
            if "accessory" in block:
                self.element(f"{path}.accessory", block["accessory"])
        elif kind == "header":
            self.text(f"{path}.text", block.get("text"), limit=150, plain_only=True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                self.bad(f"{path}.elements", "context holds 1-10 elements")
            for j, el in enumerate(elements or []):
                if isinstance(el, Mapping) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(f"{path}.elements[{j}]", el, limit=3000)
                elif not (isinstance(el, Mapping) and el.get("type") == "image"):
                    self.bad(f"{path}.elements[{j}]", "context elements are text or image")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                self.bad(f"{path}.elements", "actions hold 1-25 elements")
            for j, el in enumerate(elements or []):
                self.element(f"{path}.elements[{j}]", el)
        elif kind == "input":
            self.text(f"{path}.label", block.get("label"), limit=2000, plain_only=True)
            if "hint" in block:
                self.text(f"{path}.hint", block["hint"], limit=2000, plain_only=True)
            if "element" not in block:
                self.bad(path, "input needs an element")
            else:
                self.element(f"{path}.element", block["element"])
            if surface == "message":
                self.bad(path, "input blocks do not belong in messages")
        elif kind == "divider" or kind == "rich_text":
            pass
        elif kind == "image":
            if not block.get("alt_text"):
                self.bad(path, "image needs alt_text")
        else:
            self.bad(f"{path}.type", f"unknown block type {kind!r}")


def _decode(value: Any) -> Any:
    """Blocks and views arrive as JSON strings in form-encoded calls."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def validate_message(payload: Mapping[str, Any], *, where: str = "message") -> list[str]:
    """A chat.postMessage / chat.update / postEphemeral / response_url payload."""
    c = _Checker(where)
    blocks = _decode(payload.get("blocks"))
    text = payload.get("text")
    if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
        c.bad("text", f"{len(str(text))} chars, limit {MAX_MESSAGE_TEXT}")
    if blocks:
        if not (isinstance(text, str) and text.strip()):
            c.bad("text", "top-level text is required alongside blocks")
        c.blocks(blocks, limit=MAX_MESSAGE_BLOCKS, surface="message")
        size = len(json.dumps(blocks, ensure_ascii=False))
        if size > MAX_MESSAGE_BLOCK_CHARS:
            c.bad("blocks", f"{size} chars of blocks, about {MAX_MESSAGE_BLOCK_CHARS} fails")
    elif not (isinstance(text, str) and text.strip()) and not payload.get("delete_original"):
        c.bad("text", "a message needs text or blocks")
    if payload.get("attachments"):
        c.bad("attachments", "legacy attachments are not used; use blocks")
    return c.problems


def validate_view(view: Any, *, where: str = "view") -> list[str]:
    """A modal or Home tab passed to views.open / update / push / publish or an ack."""
    c = _Checker(where)
    view = _decode(view)
    if not isinstance(view, Mapping):
        c.bad("view", "view must be an object")
        return c.problems
    kind = view.get("type")
    if kind == "modal":
        c.text("title", view.get("title"), limit=24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                c.text(key, view[key], limit=24, plain_only=True)
        blocks = view.get("blocks") or []
        if any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks) \
                and "submit" not in view:
            c.bad("submit", "a modal with input blocks needs submit")
        c.blocks(view.get("blocks"), limit=MAX_VIEW_BLOCKS, surface="modal")
    elif kind == "home":
        c.blocks(view.get("blocks"), limit=MAX_VIEW_BLOCKS, surface="home")
    else:
        c.bad("type", f"view type {kind!r} is not modal or home")
    meta = view.get("private_metadata")
    if meta is not None and (not isinstance(meta, str) or len(meta) > 3000):
        c.bad("private_metadata", "must be a string of at most 3000 chars")
    callback = view.get("callback_id")
    if callback is not None and (not isinstance(callback, str) or len(callback) > 255):
        c.bad("callback_id", "must be a string of at most 255 chars")
    return c.problems


def validate_options(body: Mapping[str, Any], *, where: str = "options") -> list[str]:
    """The answer to a block_suggestion (external_select options load)."""
    c = _Checker(where)
    if "option_groups" in body:
        for gi, group in enumerate(body["option_groups"]):
            c.options(f"option_groups[{gi}].options", group.get("options"), low=0, high=100)
    else:
        c.options("options", body.get("options"), low=0, high=100)
    return c.problems


def validate_ack(body: Mapping[str, Any] | None, *, where: str = "ack") -> list[str]:
    """A view_submission ack: ``errors`` keys must be input block ids, views must be valid."""
    if not body:
        return []
    problems: list[str] = []
    action = body.get("response_action")
    if action in ("update", "push"):
        problems += validate_view(body.get("view"), where=f"{where}.{action}")
    elif action == "errors":
        errors = body.get("errors")
        if not isinstance(errors, Mapping) or not errors:
            problems.append(f"{where}: errors must be a non-empty object")
    return problems


def all_problems(parts: Iterable[list[str]]) -> list[str]:
    return [p for part in parts for p in part]
