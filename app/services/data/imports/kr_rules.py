"""Rules across a key result's fields in an import file: type against start and target,
issue links, and the file's values checked as a check-in would be."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.domain import CheckinAnswer
from app.models import KeyResult
from app.services.checkins import record as checkins
from app.services.data.imports.checks import Document, Problem
from app.services.data.imports.schema import KeyResultIn
from app.services.errors import InvalidValue
from app.services.links.query_specs import QuerySpecError, check_host, from_mapping
from app.services.links.urls import HostNotAllowed, IssueUrlError, parse_issue_url

_NO_START_TARGET = ("percent", "milestone", "manual", "issues", "children")


def key_result_rules(kr: KeyResultIn, path: str) -> list[Problem]:
    """Rules that relate a KR's fields to its type (values are checked by check-in rules)."""
    kind = kr.resolved_type()
    out: list[Problem] = []
    if kind in ("increase", "decrease"):
        if kr.start is None:
            out.append(Problem(f"{path}.start", f"required for an {kind} KR"))
        if kr.target is None:
            out.append(Problem(f"{path}.target", f"required for an {kind} KR"))
        if kr.start is not None and kr.target is not None:
            if kr.target == kr.start:
                out.append(Problem(f"{path}.target", "equals start"))
            elif kind == "increase" and kr.target < kr.start:
                out.append(Problem(f"{path}.target",
                                   "is below start; an increase KR needs target > start "
                                   "(use type: decrease)"))
            elif kind == "decrease" and kr.target > kr.start:
                out.append(Problem(f"{path}.target",
                                   "is above start; a decrease KR needs target < start "
                                   "(use type: increase)"))
    elif kind in ("above", "below") and kr.target is None:
        out.append(Problem(f"{path}.target", f"required for a{'n' if kind == 'above' else ''} "
                                             f"{kind} KR (the threshold)"))
    elif kind in _NO_START_TARGET:
        for name in ("start", "target"):
            if getattr(kr, name) is not None:
                out.append(Problem(f"{path}.{name}", f"not used by a {kind} KR"))
    out += plan_rules(kr, path)
    if kr.score is not None and kind != "manual":
        out.append(Problem(f"{path}.score", "only manual KRs take a score; use current"))
    if kr.current is not None and kind == "manual":
        out.append(Problem(f"{path}.current", "a manual KR takes score (0.0-1.0), not current"))
    if kr.current is not None and kind in ("issues", "children"):
        out.append(Problem(f"{path}.current",
                           f"a {kind} KR moves by itself; it takes no current value"))
    return out


def plan_rules(kr: KeyResultIn, path: str) -> list[Problem]:
    """``due`` is for milestones; ``targets`` for increase and decrease KRs, dates increasing."""
    kind = kr.resolved_type()
    out: list[Problem] = []
    if kr.due is not None and kind != "milestone":
        out.append(Problem(f"{path}.due", f"only milestones have a due date (this is {kind})"))
    if not kr.targets:
        return out
    if kind not in ("increase", "decrease"):
        out.append(Problem(f"{path}.targets",
                           f"phased targets need an increase or decrease KR (this is {kind})"))
        return out
    for n, (before, after) in enumerate(zip(kr.targets, kr.targets[1:], strict=False), 1):
        if after.on <= before.on:
            out.append(Problem(f"{path}.targets[{n}].on",
                               f"must be after targets[{n - 1}].on ({before.on.isoformat()})"))
    return out


def cycle_rules(kr: KeyResultIn, path: str, cycle: str, start: date, end: date) -> list[Problem]:
    """``due`` and every target date fall inside the KR's cycle."""
    span = f"{cycle} ({start.isoformat()} to {end.isoformat()})"
    out: list[Problem] = []
    if kr.due is not None and not start <= kr.due <= end:
        out.append(Problem(f"{path}.due", f"is outside the cycle {span}"))
    for n, target in enumerate(kr.targets or ()):
        if not start <= target.on <= end:
            out.append(Problem(f"{path}.targets[{n}].on", f"is outside the cycle {span}"))
    return out


def link_rules(kr: KeyResultIn, path: str) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for n, link in enumerate(kr.links or ()):
        try:
            ref = parse_issue_url(link.url)
        except IssueUrlError as exc:
            out.append(Problem(f"{path}.links[{n}]", str(exc)))
            continue
        if ref.url in seen:
            out.append(Problem(f"{path}.links[{n}]", "listed twice"))
        seen.add(ref.url)
    return out


def link_host_rules(doc: Document, gitlab_hosts: Iterable[str]) -> list[Problem]:
    """Links on a host the workspace may not link to: the one allow-list of every link
    source (:func:`app.services.links.hosts.link_hosts`). Links that do not parse at all
    are reported by :func:`link_rules`."""
    hosts = list(gitlab_hosts)
    out: list[Problem] = []
    for i, j, kr in doc.key_results:
        for n, link in enumerate(kr.links or ()):
            try:
                parse_issue_url(link.url)
                parse_issue_url(link.url, gitlab_hosts=hosts)
            except HostNotAllowed as exc:
                out.append(Problem(f"objectives[{i}].key_results[{j}].links[{n}]", str(exc)))
            except IssueUrlError:
                continue
    return out


def query_rules(kr: KeyResultIn, path: str) -> list[Problem]:
    """A KR's ``query``: a search we can follow, on an ``issues`` KR."""
    if kr.query is None:
        return []
    if kr.resolved_type() != "issues":
        return [Problem(f"{path}.query", f"only issues KRs follow a search (this is "
                                         f"{kr.resolved_type()})")]
    try:
        from_mapping(kr.query)
    except QuerySpecError as exc:
        return [Problem(f"{path}.query.{exc.key}" if exc.key else f"{path}.query", exc.message)]
    return []


def query_host_rules(doc: Document, gitlab_hosts: Iterable[str]) -> list[Problem]:
    """GitLab searches on a host the workspace may not link to (the links' allow-list)."""
    hosts = list(gitlab_hosts)
    out: list[Problem] = []
    for i, j, kr in doc.key_results:
        if kr.query is None:
            continue
        try:
            check_host(from_mapping(kr.query), hosts)
        except QuerySpecError as exc:
            if exc.key == "host":
                out.append(Problem(f"objectives[{i}].key_results[{j}].query.host",
                                   exc.message))
    return out


_FIELD_NAMES = {"value": "current", "score": "score", "status": "status"}


def value_rules(kr: KeyResultIn, path: str) -> list[Problem]:
    """The file's ``current`` / ``score`` / ``status`` checked as a check-in would be."""
    if kr.current is None and kr.score is None:
        return []
    kind = kr.resolved_type()
    if kind in ("issues", "children") or (kind == "manual") != (kr.score is not None):
        return []  # already reported by key_result_rules
    model = KeyResult(kr_type=kind, start_value=kr.start, target_value=kr.target)
    data = CheckinAnswer(kr_key=kr.id, value=kr.current, score=kr.score, status=kr.status)
    try:
        checkins.validate(model, data)
    except InvalidValue as exc:
        return [Problem(f"{path}.{_FIELD_NAMES.get(exc.field or '', exc.field)}", exc.message)]
    return []
