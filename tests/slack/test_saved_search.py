"""A KR's saved search in the ``/okr new`` and ``/okr edit`` modals and in ``/okr show``,
through the real Bolt app against the fake Slack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry, IssueLink, KeyResult, KRQuery, Objective
from tests.fakeforge import FakeGitHub, FakeGitLab, running
from tests.fakeslack import FakeSlack, fake_slack
from tests.fixtures.slack import Harness, build_harness
from tests.slack.blockkit import validate_view
from tests.slack.test_editing import VALID_NEW, open_new, submit

__all__ = ["fake_slack"]


@pytest.fixture()
def github() -> Iterator[FakeGitHub]:
    with running(FakeGitHub()) as forge:
        assert isinstance(forge, FakeGitHub)
        forge.add("acme/api", "issue", 1, "closed", labels=["okr"], milestone="Q1 2026")
        forge.add("acme/api", "issue", 2, "open", labels=["okr"], milestone="Q1 2026")
        forge.add("acme/api", "issue", 3, "open", labels=["okr"])
        yield forge


@pytest.fixture()
def slack(fake_slack: FakeSlack, db_engine: Engine, session_factory: sessionmaker[Session],
          now: datetime, github: FakeGitHub) -> Iterator[Harness]:
    # Searches set in a modal run after the ack, in the app's own sessions and threads.
    with running(FakeGitLab()) as gitlab:
        harness = build_harness(fake_slack, db_engine, session_factory, now,
                                OKR_GITLAB_API_URL=f"{gitlab.url}/api/v4",
                                OKR_GITHUB_API_URL=github.url,
                                OKR_ALLOW_PRIVATE_HOSTS="127.0.0.1")
        try:
            yield harness
        finally:
            harness.env.drain()
            harness.env.executor.shutdown(wait=True)

ISSUES_NEW = {**VALID_NEW, "kr_type:0": "issues", "kr_start:0": None, "kr_target:0": None,
              "kr_unit:0": None, "kr_query:0": "gitlab acme/web labels=okr-q1,bug"}


def _query(slack: Harness, key: str) -> dict[str, Any] | None:
    with slack.session() as s:
        row = s.scalars(select(KRQuery).join(KeyResult, KeyResult.id == KRQuery.kr_id)
                        .where(KeyResult.key == key)).first()
        return None if row is None else dict(row.spec)


def _audits(slack: Harness, action: str) -> list[AuditEntry]:
    with slack.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))


def _open_edit(slack: Harness, key: str) -> dict[str, Any]:
    slack.send(slack.req.command("U0BOB", f"edit {key}"))
    view = slack.fake.last_view()
    assert view is not None
    return view


def test_new_objective_with_a_saved_search_then_edit_and_clear_it(slack: Harness) -> None:
    body = submit(slack, "U0BOB", open_new(slack, "U0BOB"), ISSUES_NEW)
    assert body["response_action"] == "update", body
    assert _query(slack, "sign-10-customers") == {
        "provider": "gitlab", "project": "acme/web", "labels": ["okr-q1", "bug"]}
    (entry,) = _audits(slack, "query.set")
    assert (entry.actor_label, entry.subject_key) == ("slack:U0BOB", "sign-10-customers")

    # The edit modal shows the search as one line; changing it is audited.
    view = _open_edit(slack, "sign-10-customers")
    validate_view(view)
    block = next(b for b in view["blocks"] if b.get("block_id") == "kr_query")
    assert block["element"]["initial_value"] == "gitlab acme/web labels=okr-q1,bug"
    body = submit(slack, "U0BOB", view, {"kr_query": 'github acme/api milestone="Q1 2026"'})
    assert body["response_action"] == "update", body
    assert _query(slack, "sign-10-customers") == {
        "provider": "github", "repo": "acme/api", "milestone": "Q1 2026"}
    # The search ran right after the save: the milestone's issues are the KR's items.
    with slack.session() as s:
        links = s.scalars(select(IssueLink).where(IssueLink.url.like("%acme/api%"))
                          .order_by(IssueLink.number)).all()
        assert [(lk.number, lk.state, lk.query_id is not None) for lk in links] == [
            (1, "closed", True), (2, "open", True)]
    # An emptied line clears it; the items it brought stop counting.
    body = submit(slack, "U0BOB", _open_edit(slack, "sign-10-customers"), {"kr_query": None})
    assert body["response_action"] == "update", body
    assert _query(slack, "sign-10-customers") is None
    assert len(_audits(slack, "query.clear")) == 1
    with slack.session() as s:
        links = s.scalars(select(IssueLink).where(IssueLink.url.like("%acme/api%"))).all()
        assert len(links) == 2
        assert all(lk.left_at is not None and lk.query_id is None for lk in links)
    assert slack.checkins("sign-10-customers")[-1].note == "saved search cleared"


@pytest.mark.parametrize(("line", "words"), [
    ("gitlab acme", "is not a group/project"),
    ("github acme/api", "give labels, a milestone or both"),
    ("gitlab acme/web colour=blue", "expected labels=..."),
    ("trello board", "start with gitlab, github, jira, linear"),
    ('gitlab acme/web labels="okr', "unbalanced quotes"),
    ("gitlab acme/web labels=x host=gitlab.evil.example", "not a known GitLab host"),
    ("jira acme.atlassian.net", "jql: required"),
])
def test_a_bad_search_is_refused_inline_and_nothing_is_stored(slack: Harness, line: str,
                                                              words: str) -> None:
    body = submit(slack, "U0BOB", open_new(slack, "U0BOB"), {**ISSUES_NEW, "kr_query:0": line})
    assert body["response_action"] == "errors", body
    assert list(body["errors"]) == ["kr_query:0"]
    assert words in body["errors"]["kr_query:0"]
    with slack.session() as s:
        assert s.scalars(select(Objective).where(Objective.title.like("Win%"))).first() is None
        assert s.scalars(select(KRQuery)).first() is None
    assert _audits(slack, "query.set") == []


def test_a_search_on_another_type_is_refused(slack: Harness) -> None:
    view = _open_edit(slack, "kr-inc")
    body = submit(slack, "U0BOB", view, {"kr_query": "gitlab acme/web labels=x"})
    assert body == {"response_action": "errors",
                    "errors": {"kr_query": "a saved search needs the type Linked issues"}}
    assert _query(slack, "kr-inc") is None


def test_show_lists_the_search_escaped_and_its_items_open_first(slack: Harness) -> None:
    submit(slack, "U0BOB", open_new(slack, "U0BOB"),
           {**ISSUES_NEW, "kr_query:0": "jira acme.atlassian.net summary ~ \"<b>&x\""})
    with slack.session() as s:
        kr = s.scalars(select(KeyResult).where(KeyResult.key == "sign-10-customers")).one()
        row = s.scalars(select(KRQuery).where(KRQuery.kr_id == kr.id)).one()
        for n, state, left in ((1, "closed", False), (2, "open", False), (3, "open", True)):
            s.add(IssueLink(workspace_id=kr.workspace_id, kr_id=kr.id, query_id=row.id,
                            url=f"https://gitlab.com/acme/web/-/issues/{n}", provider="gitlab",
                            host="gitlab.com", project="acme/web", kind="issue", number=n,
                            weight=1.0, closed=state == "closed", state=state,
                            left_at=slack.now if left else None, created_at=slack.now))
        s.commit()
    _, body = slack.command("U0BOB", "show sign-10-customers")
    text = json.dumps(body["blocks"])
    assert "Follows the saved search jira acme.atlassian.net summary ~ \\\"&lt;b&gt;&amp;x\\\"" \
        in text
    assert "<b>" not in text
    section = next(b["text"]["text"] for b in body["blocks"]
                   if b.get("text", {}).get("text", "").startswith("*Linked work*"))
    lines = section.splitlines()
    assert lines[0] == "*Linked work* (1 of 2 done)"
    assert ["#2" in lines[1], "#1" in lines[2], "#3" in lines[3]] == [True, True, True]
    assert "left the saved search" in lines[3]
