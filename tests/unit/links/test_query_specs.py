"""Saved searches as people write them, and what webhooks say about an item's labels."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.links import query_sync, webhooks
from app.services.links.queries import matches
from app.services.links.query_specs import (
    QuerySpec,
    QuerySpecError,
    check_host,
    describe,
    from_mapping,
    parse_line,
)
from app.services.links.refs import ItemState
from tests.fakeforge import FakeGitHub, FakeGitLab

LINES = [
    ("gitlab acme/web labels=okr-q1", {"provider": "gitlab", "project": "acme/web",
                                       "labels": ["okr-q1"]}),
    ("gitlab group/sub/web labels=a,b milestone='Q1 2026' host=git.example.org",
     {"provider": "gitlab", "host": "git.example.org", "project": "group/sub/web",
      "labels": ["a", "b"], "milestone": "Q1 2026"}),
    ("github acme/api milestone=Q1", {"provider": "github", "repo": "acme/api",
                                      "milestone": "Q1"}),
    ("jira acme.atlassian.net project = PAY AND labels = \"okr q1\"",
     {"provider": "jira", "host": "acme.atlassian.net",
      "jql": "project = PAY AND labels = \"okr q1\""}),
    ("linear acme Onboarding flow", {"provider": "linear", "org": "acme",
                                     "project": "Onboarding flow"}),
]


@pytest.mark.parametrize(("line", "spec"), LINES)
def test_a_line_reads_as_the_import_spelling_and_back(line: str, spec: dict[str, object]) -> None:
    parsed = parse_line(line)
    assert parsed is not None and parsed.as_dict() == spec
    assert parse_line(describe(parsed)) == parsed
    assert from_mapping(spec) == parsed


def test_an_empty_line_is_no_search() -> None:
    assert parse_line("  ") is None


label = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=","),
                min_size=1, max_size=30).filter(lambda t: t.strip() == t and t)


@given(st.lists(label, min_size=1, max_size=4, unique_by=str.casefold),
       st.one_of(st.none(), label))
def test_any_labels_and_milestone_survive_the_line(labels: list[str],
                                                   milestone: str | None) -> None:
    spec = from_mapping({"provider": "gitlab", "project": "acme/web", "labels": labels,
                         "milestone": milestone})
    assert parse_line(describe(spec)) == spec


def test_gitlab_hosts_come_from_the_allow_list() -> None:
    spec = from_mapping({"provider": "gitlab", "host": "git.example.org", "project": "a/b",
                         "labels": ["x"]})
    check_host(spec, ["git.example.org"])
    with pytest.raises(QuerySpecError, match="not a known GitLab host") as caught:
        check_host(spec, [])
    assert caught.value.key == "host"


def _item(**kw: object) -> ItemState:
    base: dict[str, object] = {"provider": "gitlab", "host": "gitlab.com",
                               "project": "Acme/Web", "kind": "issue", "number": 1,
                               "state": "open", "labels": ("OKR-Q1", "bug"), "milestone": "Q1"}
    base.update(kw)
    return ItemState(**base)  # type: ignore[arg-type]


SPEC = QuerySpec("gitlab", "gitlab.com", "acme/web", ("okr-q1",), "q1")


@pytest.mark.parametrize(("item", "verdict"), [
    (_item(), True),  # labels and milestone compare case-insensitively
    (_item(labels=("bug",)), False),
    (_item(milestone=""), False),
    (_item(milestone=None), None),  # the payload did not say: the daily search decides
    (_item(labels=None), None),
    (_item(kind="merge_request"), False),  # searches count issues
    (_item(project="acme/other"), False),
    (_item(host="git.example.org"), False),
])
def test_an_item_matches_a_search(item: ItemState, verdict: bool | None) -> None:
    assert matches(SPEC, item) is verdict


def test_webhooks_carry_labels_and_milestone() -> None:
    gitlab = FakeGitLab()
    gitlab.add("acme/web", "issue", 3, "opened", labels=["okr-q1"], milestone="Q1")
    gitlab.add("acme/web", "issue", 4, "opened")
    items = [webhooks.gitlab_item(json.loads(gitlab.hook("acme/web", "issue", n)[0]))
             for n in (3, 4)]
    assert [(i.labels, i.milestone) for i in items if i is not None] == [
        (("okr-q1",), "Q1"), ((), "")]
    github = FakeGitHub()
    github.add("acme/api", "issue", 5, "open", labels=["okr"], milestone="Q1")
    body = json.loads(github.hook("acme/api", "issue", 5, action="labeled")[0])
    item = webhooks.github_item("issues", body)
    assert isinstance(item, ItemState) and (item.labels, item.milestone) == (("okr",), "Q1")
    del body["issue"]["labels"]
    item = webhooks.github_item("issues", body)
    assert isinstance(item, ItemState) and item.labels is None


def test_gitlab_names_a_milestone_by_id_only_in_older_payloads() -> None:
    payload = {"object_kind": "issue",
               "project": {"path_with_namespace": "acme/web",
                           "web_url": "https://gitlab.com/acme/web"},
               "object_attributes": {"iid": 1, "state": "opened", "milestone_id": 9,
                                     "labels": []}}
    item = webhooks.gitlab_item(payload)
    assert item is not None and (item.labels, item.milestone) == ((), None)


def test_jira_and_linear_searchers_plug_in_with_their_own_signatures() -> None:
    seen: list[tuple[object, ...]] = []

    def search_jql(client: object, jql: str, *, host: str, limit: int = 1000) -> list[ItemState]:
        seen.append((client, jql, host, limit))
        return []

    def project_issues(client: object, project: str, *, org: str, limit: int = 1000,
                       canceled_done: bool = False) -> list[ItemState]:
        seen.append((client, project, org, limit, canceled_done))
        return []

    class Conn:
        canceled_done = True

    jira = from_mapping({"provider": "jira", "host": "acme.atlassian.net", "jql": "x = 1"})
    linear = from_mapping({"provider": "linear", "org": "acme", "project": "Onboarding"})
    query_sync.via_jql(search_jql)("c", jira, 5)
    query_sync.via_project(project_issues)("c", linear, 7)
    query_sync.via_project(project_issues)("c", linear, 7, Conn())
    assert seen == [("c", "x = 1", "acme.atlassian.net", 5), ("c", "Onboarding", "acme", 7, False),
                    ("c", "Onboarding", "acme", 7, True)]
    assert set(query_sync.SEARCHERS) == {"gitlab", "github", "jira", "linear"}
