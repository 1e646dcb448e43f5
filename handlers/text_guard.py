"""Text that cannot be stored never reaches a listener.

PostgreSQL refuses NUL characters and an unpaired surrogate is no UTF-8; both can arrive in
what people type. This Bolt middleware checks a modal's inputs and a slash command's text
before any listener runs and answers where the person is: a modal gets the error on the
field, a slash command an ephemeral line; nothing is stored then. A reply in the DM is
checked by the check-in writer itself (app.services.checkins.record), which answers in the
DM.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse

from app.services.text import text_problem


def _modal_errors(body: dict[str, Any]) -> dict[str, str]:
    """``{block_id: problem}`` for every input of the submitted view that cannot be stored."""
    values = (((body.get("view") or {}).get("state") or {}).get("values")) or {}
    errors: dict[str, str] = {}
    for block_id, actions in values.items():
        for element in (actions or {}).values():
            problem = _first_problem(element)
            if problem:
                errors[str(block_id)] = f"This text {problem}: please retype it."
                break
    return errors


def _first_problem(obj: Any) -> str | None:
    if isinstance(obj, str):
        return text_problem(obj)
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, list):
        for item in obj:
            problem = _first_problem(item)
            if problem:
                return problem
    return None


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(payload),
                        headers={"content-type": "application/json"})


def guard(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
    """Bolt middleware: see the module doc."""
    kind = body.get("type") or ("slash_command" if "command" in body else None)
    if kind == "view_submission":
        errors = _modal_errors(body)
        if errors:
            return _json({"response_action": "errors", "errors": errors})
    elif kind == "slash_command":
        problem = text_problem(str(body.get("text") or ""))
        if problem:
            return _json({"response_type": "ephemeral",
                          "text": f":warning: That command {problem}: please retype it."})
    return next()
