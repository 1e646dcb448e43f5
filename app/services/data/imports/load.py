"""``okr import``: load people, teams, cycles, schedules, objectives and KRs from YAML.

The file is parsed, checked completely (shapes, rules, references to the file and to the
workspace) and only then written, in the caller's transaction. Any problem raises
:class:`ImportInvalid` listing all of them, each as ``path: reason``, before anything is
written. Ids are the identity: importing the same file twice changes nothing, a changed file
updates rows in place (audited), and rows missing from the file are left alone.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy.orm import Session
from yaml.constructor import ConstructorError

from app.models import (
    Checkin,
    IssueLink,
    KeyResult,
    Objective,
    Person,
    Team,
    TeamMember,
    Workspace,
)
from app.services.data.bulk import refresh_statistics
from app.services.data.imports import refs
from app.services.data.imports.apply import Context, ImportSummary
from app.services.data.imports.checks import Document, Problem, duplicates, shape
from app.services.data.imports.kr_rules import link_host_rules, query_host_rules
from app.services.data.imports.okrs import apply_okrs
from app.services.data.imports.org import (
    apply_cycles,
    apply_people,
    apply_settings,
    apply_teams,
    slack_team_problems,
)
from app.services.data.imports.schema import TOP_LEVEL
from app.services.data.imports.yamlload import Loader
from app.services.errors import OkrError
from app.services.gcpause import paused_gc
from app.services.links import hosts as link_hosts

log = logging.getLogger(__name__)

__all__ = ["ImportInvalid", "ImportSummary", "ParsedFile", "import_text", "named_team", "parse"]


class ImportInvalid(OkrError):
    """The file cannot be imported; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the import file")


@dataclass
class ParsedFile:
    document: Document
    parse_seconds: float


def load_yaml(text: str) -> Any:
    """Parse YAML; a syntax error becomes a problem naming its line and column (1-based)."""
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        reason = exc.problem or exc.context or "not valid YAML"
        if exc.context and exc.problem:
            started = exc.context_mark
            at = f" at line {started.line + 1}, column {started.column + 1}" if started else ""
            reason = f"{exc.problem} ({exc.context}{at})"
        kind = "YAML value error" if isinstance(exc, ConstructorError) else "YAML syntax error"
        raise ImportInvalid([Problem(where, f"{kind}: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ImportInvalid([Problem("YAML", f"syntax error: {exc}")]) from None
    except RecursionError:
        raise ImportInvalid([Problem("YAML", "nested too deeply")]) from None


def parse(text: str) -> ParsedFile:
    """Parse and check one file on its own (no database): shapes, rules, duplicate ids.

    Raises ImportInvalid with every problem found; reference checks need the database
    and happen in :func:`import_text`.
    """
    parsed, problems = _check_file(text)
    if problems:
        raise ImportInvalid(_in_file_order(problems))
    return parsed


def named_team(parsed: ParsedFile) -> str | None:
    """The Slack team the file binds its workspace to (``settings.slack_team``), if any."""
    settings = parsed.document.settings
    return settings.slack_team if settings is not None else None


def _check_file(text: str) -> tuple[ParsedFile, list[Problem]]:
    started = time.perf_counter()
    with paused_gc():  # half a million nodes and values, all kept: see app.services.gcpause
        raw = load_yaml(text)
        doc, problems = shape(raw)
        problems += duplicates(doc)
        problems += refs.entry_rules(doc)
    return ParsedFile(doc, time.perf_counter() - started), problems


def import_text(*, session: Session, workspace: Workspace, text: str, now: datetime,
                parsed: ParsedFile | None = None,
                gitlab_hosts: Iterable[str] = ()) -> ImportSummary:
    """Check the whole file, then write it. Raises ImportInvalid (nothing written).

    Links must be on a host the workspace may link to: gitlab.com, github.com, the hosts of
    its own tracker connections and ``gitlab_hosts`` (the operator's OKR_GITLAB_HOSTS)."""
    with paused_gc():
        return _import(session, workspace, text, now, parsed, gitlab_hosts)


def _import(session: Session, workspace: Workspace, text: str, now: datetime,
            parsed: ParsedFile | None, gitlab_hosts: Iterable[str]) -> ImportSummary:
    problems: list[Problem] = []
    if parsed is None:
        parsed, problems = _check_file(text)
    doc = parsed.document
    problems += refs.references(doc, refs.load_known(session, workspace.id))
    allowed = link_hosts.link_hosts_for(session=session, workspace_id=workspace.id,
                                        gitlab_hosts=gitlab_hosts)
    problems += link_host_rules(doc, allowed)
    problems += query_host_rules(doc, allowed)
    problems += slack_team_problems(session, workspace, doc)
    if problems:
        raise ImportInvalid(_in_file_order(problems))
    ctx = Context(session=session, workspace=workspace, now=now, link_hosts=tuple(allowed))
    apply_settings(ctx, doc)
    apply_cycles(ctx, doc)
    apply_people(ctx, doc)
    apply_teams(ctx, doc)
    apply_okrs(ctx, doc)
    ctx.flush_audit()
    session.flush()
    created = sum(c.created for c in ctx.summary.counts.values()) + ctx.summary.checkins
    refresh_statistics(session, [Person, Team, TeamMember, Objective, KeyResult, IssueLink,
                                 Checkin], created)
    # Bulk statements bypass the identity map: make loaded objects re-read their rows.
    session.expire_all()
    log.info("import.applied", extra={"workspace_id": workspace.id,
                                      "checkins": ctx.summary.checkins,
                                      "changed": ctx.summary.changed})
    return ctx.summary


_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


def _path_key(problem: Problem) -> tuple[Any, ...]:
    """Sections in the documented order, then entries by index; fields alphabetically."""
    tokens = _TOKEN.findall(problem.path)
    section = TOP_LEVEL.index(tokens[0]) if tokens and tokens[0] in TOP_LEVEL else -1
    rest = [(1, int(t[1:-1]), "") if t.startswith("[") else (0, 0, t) for t in tokens[1:]]
    return (section, *rest)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    return sorted(dict.fromkeys(problems), key=_path_key)
