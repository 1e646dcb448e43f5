"""Validating an import file's shapes (pydantic) and its duplicate ids.

Rules across a key result's fields are in :mod:`~app.services.data.imports.kr_rules`,
references in :mod:`~app.services.data.imports.refs`.

Every problem is a :class:`Problem` whose text reads ``path: reason``, e.g.
``objectives[2].key_results[0].target: equals start``. Checking never stops at the first
problem: each entry is validated on its own so one bad entry does not hide the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from app.services.data.imports.schema import (
    SECTIONS,
    TOP_LEVEL,
    CycleIn,
    KeyResultIn,
    ObjectiveIn,
    PersonIn,
    SettingsIn,
    Strict,
    TeamIn,
)


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


@dataclass
class Document:
    """The entries that passed shape validation, each with its index in the file."""

    settings: SettingsIn | None = None
    cycles: list[tuple[int, CycleIn]] = field(default_factory=list)
    people: list[tuple[int, PersonIn]] = field(default_factory=list)
    teams: list[tuple[int, TeamIn]] = field(default_factory=list)
    objectives: list[tuple[int, ObjectiveIn]] = field(default_factory=list)
    # Every key result that passed: (objective index, key result index, key result).
    key_results: list[tuple[int, int, KeyResultIn]] = field(default_factory=list)
    # Paths whose value is a stand-in for an invalid required value (see _STAND_INS).
    stand_ins: set[str] = field(default_factory=set)


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_PATTERN_HINTS = {
    "^[UW]": "must be a Slack user id like U012AB3CD",
    "^[CGD]": "must be a Slack channel id like C012AB3CD",
    "^[A-Za-z0-9][A-Za-z0-9_.:-]*(/": "must be an objective id or objective-id/kr-id",
    "^[A-Za-z0-9]": "ids start with a letter or digit and use only letters, digits, . _ : -",
    "^[^@": "must be an email address",
}

_TYPE_REASONS = {
    "extra_forbidden": "unknown key",
    "missing": "required",
    "string_type": "must be text",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "list_type": "must be a list",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "dict_type": "must be a mapping (key: value)",
    "string_too_short": "must not be empty",
}


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _reason(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _TYPE_REASONS:
        return _TYPE_REASONS[kind]
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}".replace("' or '", "', '")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        for prefix, hint in _PATTERN_HINTS.items():
            if pattern.startswith(prefix):
                return hint
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "greater_than":
        return f"must be greater than {_num(ctx.get('gt'))}"
    if kind in ("greater_than_equal", "less_than_equal", "less_than"):
        word = {"greater_than_equal": "at least", "less_than_equal": "at most",
                "less_than": "less than"}[kind]
        bound = ctx.get("ge", ctx.get("le", ctx.get("lt")))
        return f"must be {word} {_num(bound)}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"]).replace("Input should be", "must be")


def pydantic_problems(exc: ValidationError, prefix: list[str | int]) -> list[Problem]:
    return [Problem(format_loc([*prefix, *err["loc"]]), _reason(err))
            for err in exc.errors(include_url=False)]


# Stand-ins for required values that failed validation, so the rest of an entry can still be
# checked (its references, its key results). They are never written: a file with any problem
# is refused as a whole, and checks skip paths listed in ``Document.stand_ins``.
_STAND_INS: dict[str, Any] = {
    "id": "invalid", "title": "(invalid)", "name": "invalid", "slack_id": "UINVALID",
    "start": date(2000, 1, 1), "end": date(2000, 1, 1), "url": "https://invalid.invalid",
}


def _validate(model: type[Strict], item: Any, path: list[str | int], doc: Document,
              problems: list[Problem]) -> Any:
    """Validate one entry; on failure report it and retry without the offending keys."""
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, path))
        if not isinstance(item, dict):
            return None
        bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
        lenient = {k: v for k, v in item.items() if k not in bad}
        for name in bad:
            field_info = model.model_fields.get(str(name))
            if field_info is not None and field_info.is_required() and name in _STAND_INS:
                lenient[str(name)] = _STAND_INS[str(name)]
                doc.stand_ins.add(format_loc([*path, name]))
        try:
            return model.model_validate(lenient)
        except ValidationError:
            return None


def shape(raw: Any) -> tuple[Document, list[Problem]]:
    """Validate each entry's shape; return the entries and every problem found.

    Each entry (and each key result of an objective) is validated on its own, so one bad
    entry does not hide problems elsewhere.
    """
    doc = Document()
    problems: list[Problem] = []
    if raw is None:
        return doc, problems
    if not isinstance(raw, dict):
        return doc, [Problem("", "the file must be a mapping with the keys "
                                 + ", ".join(TOP_LEVEL))]
    for key in raw:
        if key not in TOP_LEVEL:
            problems.append(Problem(str(key),
                                    f"unknown key (expected one of {', '.join(TOP_LEVEL)})"))
    if raw.get("settings") is not None:
        doc.settings = _validate(SettingsIn, raw["settings"], ["settings"], doc, problems)
    for section, model in SECTIONS.items():
        items = raw.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(Problem(section, "must be a list"))
            continue
        entries: list[tuple[int, Any]] = getattr(doc, section)
        for index, item in enumerate(items):
            krs: list[KeyResultIn] = []
            if section == "objectives" and isinstance(item, dict) \
                    and isinstance(item.get("key_results"), list):
                raw_krs = item["key_results"]
                item = {k: v for k, v in item.items() if k != "key_results"}
                for j, raw_kr in enumerate(raw_krs):
                    kr = _validate(KeyResultIn, raw_kr, [section, index, "key_results", j],
                                   doc, problems)
                    if kr is not None:
                        krs.append(kr)
                        doc.key_results.append((index, j, kr))
            entry = _validate(model, item, [section, index], doc, problems)
            if entry is not None:
                if isinstance(entry, ObjectiveIn):
                    entry.key_results = krs
                entries.append((index, entry))
    return doc, problems


def _duplicates(entries: Iterable[tuple[str, str]], what: str, skip: set[str]) -> list[Problem]:
    """``entries`` are (path of the id, id); each repeat is reported at its own path."""
    first: dict[str, str] = {}
    out: list[Problem] = []
    for path, key in entries:
        if path in skip:
            continue
        if key in first:
            out.append(Problem(path, f"duplicate {what} {key!r} (first at {first[key]})"))
        else:
            first[key] = path
    return out


def duplicates(doc: Document) -> list[Problem]:
    skip = doc.stand_ins
    problems = _duplicates(((f"cycles[{i}].name", c.name) for i, c in doc.cycles), "cycle",
                           skip)
    problems += _duplicates(((f"people[{i}].slack_id", p.slack_id) for i, p in doc.people),
                            "person", skip)
    problems += _duplicates(((f"teams[{i}].id", t.id) for i, t in doc.teams), "id", skip)
    problems += _duplicates(((f"objectives[{i}].id", o.id) for i, o in doc.objectives), "id",
                            skip)
    problems += _duplicates(
        ((f"objectives[{i}].key_results[{j}].id", kr.id) for i, j, kr in doc.key_results),
        "key result id", skip,
    )
    return problems
