"""A KR's saved search (``query``) in the import file: checked with its path, stored,
exported as the file spells it and read back, cleared with ``query: null``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import ScoringSettings
from app.models import AuditEntry, KeyResult, KRQuery, Workspace
from app.services.data import export as exports
from app.services.data.imports import load
from app.services.tenancy import workspaces
from tests.services.helpers import dump, run_import

QUERIES: list[dict[str, Any]] = [
    {"provider": "gitlab", "project": "acme/web", "labels": ["okr-q1"]},
    {"provider": "github", "repo": "acme/api", "milestone": "Q1", "labels": ["okr", "bug"]},
    {"provider": "jira", "host": "acme.atlassian.net",
     "jql": "project = PAY AND labels = okr-q1"},
    {"provider": "linear", "org": "acme", "project": "Onboarding"},
    {"provider": "gitlab", "host": "git.example.org", "project": "group/sub/web",
     "milestone": "2026.1"},
]


def _doc(queries: list[Any]) -> dict[str, Any]:
    return {
        "cycles": [{"name": "FY27-Q1", "start": "2026-02-01", "end": "2026-04-30",
                    "phase": "active"}],
        "people": [{"slack_id": "U0ANA", "name": "Ana"}],
        "objectives": [{"id": "o1", "title": "Onboarding", "owner": "U0ANA", "key_results": [
            {"id": f"kr{n}", "title": f"Close the bugs {n}", "query": q}
            for n, q in enumerate(queries)]}],
    }


def _stored(session: Session, ws: Workspace) -> dict[str, Any]:
    return {key: spec for key, spec in session.execute(
        select(KeyResult.key, KRQuery.spec).join(KRQuery, KRQuery.kr_id == KeyResult.id)
        .where(KRQuery.workspace_id == ws.id))}


def _import(session: Session, doc: dict[str, Any], now: datetime,
            ws: Workspace | None = None) -> Any:
    ws = ws or workspaces.default_workspace(session=session, now=now)
    return load.import_text(session=session, workspace=ws, text=dump(doc), now=now,
                            gitlab_hosts=["git.example.org"])


def test_queries_round_trip_through_export(session: Session, now: datetime) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    summary = _import(session, _doc(QUERIES), now, ws)
    assert summary.queries == 5
    assert _stored(session, ws) == {f"kr{n}": q for n, q in enumerate(QUERIES)}
    kr = session.scalars(select(KeyResult).where(KeyResult.key == "kr0")).one()
    assert kr.kr_type == "issues"  # a query makes an issues KR, as links do
    # The same file again changes nothing.
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    again = _import(session, _doc(QUERIES), now, ws)
    assert (again.changed, again.queries) == (False, 0)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits

    data = exports.gather(session=session, workspace=ws, now=now, settings=ScoringSettings())
    exported = exports.to_dict(data)
    krs = exported["objectives"][0]["key_results"]
    assert [kr["query"] for kr in krs] == QUERIES
    # What the export says reads back into another workspace as the same searches.
    other = Workspace(name="other", created_at=now, holiday_dates=[])
    session.add(other)
    session.flush()
    back = _doc([yaml.safe_load(yaml.safe_dump(kr["query"])) for kr in krs])
    _import(session, back, now, other)
    assert _stored(session, other) == _stored(session, ws)


def test_query_null_clears_and_a_changed_query_is_audited(session: Session,
                                                          now: datetime) -> None:
    ws = workspaces.default_workspace(session=session, now=now)
    _import(session, _doc(QUERIES[:2]), now, ws)
    changed = [{**QUERIES[0], "labels": ["okr-q2"]}, None]
    summary = _import(session, _doc(changed), now, ws)
    assert summary.queries == 2
    assert _stored(session, ws) == {"kr0": changed[0]}
    actions = session.execute(select(AuditEntry.action, AuditEntry.subject_key).where(
        AuditEntry.subject_type == "kr_query").order_by(AuditEntry.id)).all()
    assert [tuple(a) for a in actions] == [("import.create", "kr0"), ("import.create", "kr1"),
                                           ("import.update", "kr0"), ("import.update", "kr1")]


BAD: list[tuple[Any, str]] = [
    ({"provider": "gitlab", "labels": ["x"]}, "query.project: required"),
    ({"provider": "gitlab", "project": "acme/web"},
     "query.labels: give labels, a milestone or both (a whole project is too broad a search)"),
    ({"provider": "github", "repo": "acme", "labels": ["x"]},
     "query.repo: 'acme' is not a owner/repo path"),
    ({"provider": "github", "repo": "acme/api", "labels": ["a,b"]},
     "query.labels: 'a,b' is not a label (no commas, at most 255 characters)"),
    ({"provider": "github", "repo": "acme/api", "labels": "x", "jql": "y"},
     "query.jql: unknown key for a github search (it takes repo, labels, milestone)"),
    ({"provider": "jira", "host": "acme.atlassian.net"}, "query.jql: required"),
    ({"provider": "jira", "host": "not a host", "jql": "x"},
     "query.host: 'not a host' is not a host name (e.g. gitlab.example.com)"),
    ({"provider": "linear", "org": "acme"}, "query.project: required"),
    ({"provider": "trello", "board": "x"},
     "query.provider: must be one of gitlab, github, jira, linear"),
    ("gitlab acme/web", "query: must be a mapping (key: value)"),
    ({"provider": "gitlab", "host": "gitlab.evil.example", "project": "a/b", "labels": ["x"]},
     "query.host: gitlab.evil.example is not a known GitLab host (an admin adds it with "
     "`okr tracker add gitlab --host ...` or in OKR_GITLAB_HOSTS)"),
]


@pytest.mark.parametrize(("query", "reason"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_queries_are_named_by_path_and_nothing_is_written(
        session: Session, now: datetime, query: Any, reason: str) -> None:
    before = session.scalar(select(func.count()).select_from(KRQuery))
    with pytest.raises(load.ImportInvalid) as caught:
        _import(session, _doc([query]), now)
    assert [str(p) for p in caught.value.problems] == [
        f"objectives[0].key_results[0].{reason}"]
    assert session.scalar(select(func.count()).select_from(KRQuery)) == before


def test_a_query_on_another_kr_type_is_refused(session: Session, now: datetime) -> None:
    doc = _doc([QUERIES[0]])
    doc["objectives"][0]["key_results"][0]["type"] = "milestone"
    with pytest.raises(load.ImportInvalid) as caught:
        run_import(session, dump(doc), now)
    assert [str(p) for p in caught.value.problems] == [
        "objectives[0].key_results[0].query: only issues KRs follow a search (this is "
        "milestone)"]
