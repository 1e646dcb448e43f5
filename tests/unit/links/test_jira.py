"""Jira links and webhook payloads (pure): what is accepted, what is refused and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.services.errors import InvalidValue
from app.services.links.jira_events import jira_item, parse_time
from app.services.links.refs import ItemState, parse, short_ref
from app.services.links.urls import HostNotAllowed, IssueRef, IssueUrlError, parse_issue_url
from app.services.links.webhooks import BadPayload

PAYLOADS = Path(__file__).parent.parent.parent / "fixtures" / "payloads"
HOST = "acme.atlassian.net"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(("url", "expected"), [
    ("https://acme.atlassian.net/browse/PAY-123",
     IssueRef("jira", "acme.atlassian.net", "PAY", "issue", 123)),
    # Any Cloud site, lower-case keys (Jira opens them), trailing parts dropped; always https.
    ("http://Other-Team.atlassian.net/browse/ops_2-7/?focusedCommentId=1#c",
     IssueRef("jira", "other-team.atlassian.net", "OPS_2", "issue", 7)),
])
def test_parses_jira_cloud_links(url: str, expected: IssueRef) -> None:
    for hosts in (None, [], ["gitlab.example.com"]):
        assert parse_issue_url(url, gitlab_hosts=hosts) == expected
    assert expected.url == f"https://{expected.host}/browse/{expected.project}-{expected.number}"
    assert parse_issue_url(expected.url) == expected


def test_a_jira_server_link_needs_its_host_on_the_allow_list() -> None:
    url = "http://jira.corp.example:8080/browse/PAY-9"
    ref = parse_issue_url(url, gitlab_hosts=["jira.corp.example:8080"])
    assert ref == IssueRef("jira", "jira.corp.example:8080", "PAY", "issue", 9, scheme="http")
    assert ref.url == url
    with pytest.raises(HostNotAllowed, match="not a known Jira host"):
        parse_issue_url(url, gitlab_hosts=["gitlab.example.com"])
    # Finding or removing a link made before accepts any host (no tracker is called).
    assert parse_issue_url(url, gitlab_hosts=None) == ref
    # GitLab's own paths on an allowed host stay GitLab links.
    assert parse_issue_url("https://jira.corp.example:8080/a/b/-/issues/1",
                           gitlab_hosts=["jira.corp.example:8080"]).provider == "gitlab"


@pytest.mark.parametrize(("url", "reason"), [
    ("https://acme.atlassian.net/browse/PAY", "not a Jira issue key"),
    ("https://acme.atlassian.net/browse/PAY-0", "not an issue number"),
    ("https://acme.atlassian.net/browse/PAY-99999999999", "not an issue number"),
    ("https://acme.atlassian.net/browse/9AY-1", "not a Jira project key"),
    ("https://acme.atlassian.net/browse/PA%20Y-1", "not a Jira project key"),
    ("https://acme.atlassian.net/browse/PÄY-1", "not a Jira project key"),
    ("https://acme.atlassian.net/browse/-1", "not a Jira issue key"),
    ("https://acme.atlassian.net/jira/software/projects/PAY/boards/1", "a Jira link looks like"),
    ("https://acme.atlassian.net/browse", "a Jira link looks like"),
])
def test_refuses_malformed_jira_links_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(IssueUrlError, match=reason):
        parse_issue_url(url)
    with pytest.raises(InvalidValue, match=reason) as info:
        parse(url, gitlab_hosts=[])
    assert info.value.field == "url"


def test_short_ref_is_the_issue_key() -> None:
    assert short_ref("jira", "pay", "issue", 123) == "PAY-123"  # stored lower-cased
    assert short_ref("github", "acme/api", "issue", 5) == "acme/api#5"


def test_jira_times_parse() -> None:
    assert parse_time("2026-03-02T11:00:00.000+0100") == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert parse_time("2026-03-02T10:00:00Z") == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert parse_time("2026-03-02T10:00:00") is None and parse_time(5) is None


def test_reads_the_documented_payloads() -> None:
    updated = jira_item(payload("jira_issue_updated.json"), host=HOST)
    assert updated == ItemState("jira", HOST, "PAY", "issue", 123, "closed",
                                datetime(2026, 3, 2, 10, tzinfo=UTC),
                                "Refunds <fail> for & cards")
    created = jira_item(payload("jira_issue_created.json"), host=HOST)
    assert created is not None and (created.number, created.state) == (124, "open")
    deleted = jira_item(payload("jira_issue_deleted.json"), host=HOST)
    assert deleted is not None and (deleted.number, deleted.state) == (125, "deleted")
    assert deleted.updated_at is None  # a deletion is never a late delivery


def test_an_update_without_a_state_change_is_ignored() -> None:
    body = payload("jira_issue_updated.json")
    body["changelog"]["items"] = [{"field": "summary", "fieldtype": "jira",
                                   "fieldId": "summary", "fromString": "a", "toString": "b"}]
    assert jira_item(body, host=HOST) is None
    del body["changelog"]  # a comment: no changelog at all
    assert jira_item(body, host=HOST) is None
    body["webhookEvent"] = "comment_created"
    assert jira_item(body, host=HOST) is None
    # Only the resolution changed: that is about the state.
    body = payload("jira_issue_updated.json")
    body["changelog"]["items"] = body["changelog"]["items"][:1]
    assert jira_item(body, host=HOST) is not None


@pytest.mark.parametrize(("change", "reason"), [
    (lambda b: b.pop("webhookEvent"), "webhookEvent is missing"),
    (lambda b: b.pop("issue"), "issue is missing"),
    (lambda b: b["issue"].update(key="PAY"), "issue.key"),
    (lambda b: b["issue"].update(key=12), "issue.key is missing"),
    (lambda b: b["issue"]["fields"].pop("status"), "issue.fields.status is missing"),
    (lambda b: b["issue"]["fields"]["status"].pop("statusCategory"), "statusCategory"),
    (lambda b: b["issue"]["fields"]["status"]["statusCategory"].update(key=None),
     "statusCategory.key"),
    (lambda b: b["changelog"].update(items="status"), "changelog.items is not a list"),
    (lambda b: b["changelog"].update(items=["status"]), "changelog.items holds"),
])
def test_malformed_payloads_say_what_is_wrong(change: Any, reason: str) -> None:
    body = payload("jira_issue_updated.json")
    change(body)
    with pytest.raises(BadPayload, match=reason):
        jira_item(body, host=HOST)
    with pytest.raises(BadPayload, match="not a JSON object"):
        jira_item([body], host=HOST)
