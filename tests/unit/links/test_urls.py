"""Parsing issue-tracker links (pure; shared with the integrations code)."""

from __future__ import annotations

import re

import pytest

from app.services.links.urls import IssueRef, IssueUrlError, parse_issue_url


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gitlab.com/acme/web/-/issues/12",
     IssueRef("gitlab", "gitlab.com", "acme/web", "issue", 12)),
    ("https://gitlab.com/acme/platform/api/-/merge_requests/7/diffs?view=inline",
     IssueRef("gitlab", "gitlab.com", "acme/platform/api", "merge_request", 7)),
    ("https://git.example.org:8443/a/b/-/issues/3#note_9",
     IssueRef("gitlab", "git.example.org:8443", "a/b", "issue", 3)),
    ("https://github.com/acme/api/issues/5/",
     IssueRef("github", "github.com", "acme/api", "issue", 5)),
    ("https://github.com/acme/api/pull/47/files",
     IssueRef("github", "github.com", "acme/api", "pull_request", 47)),
    # GitLab's newer issue view: the same issue number, and the link keeps its form.
    ("https://gitlab.com/acme/web/-/work_items/31",
     IssueRef("gitlab", "gitlab.com", "acme/web", "issue", 31, segment="work_items")),
    # A self-managed instance on plain http keeps its scheme; gitlab.com is always https.
    ("http://git.internal:8080/a/b/-/issues/4",
     IssueRef("gitlab", "git.internal:8080", "a/b", "issue", 4, scheme="http")),
    ("http://gitlab.com/acme/web/-/issues/2",
     IssueRef("gitlab", "gitlab.com", "acme/web", "issue", 2)),
    # Under a relative URL root, the root is part of the path, as in the instance's own URLs.
    ("https://corp.example/gitlab/group/project/-/issues/1",
     IssueRef("gitlab", "corp.example", "gitlab/group/project", "issue", 1)),
])
def test_parses_gitlab_and_github_links(url: str, expected: IssueRef) -> None:
    ref = parse_issue_url(url)
    assert ref == expected
    assert parse_issue_url(ref.url) == ref  # the canonical URL parses back the same


@pytest.mark.parametrize(("url", "reason"), [
    ("gitlab.com/acme/web/-/issues/12", "not an http(s) link"),
    ("https://github.com/acme/api/commits/5", "a GitHub link looks like"),
    ("https://github.com/acme/api/issues/0", "is not an issue number"),
    ("https://gitlab.com/acme/-/issues/1", "a GitLab link looks like"),
    ("https://gitlab.com/acme/web/-/pipelines/1", "a GitLab link looks like"),
    ("https://example.com/acme/web/issues/1", "not a link to a GitLab issue"),
    ("https://gitlab.com:99999/acme/web/-/issues/1", "not a valid link"),
    ("https://[::1/acme/web/-/issues/1", "not a valid link"),
])
def test_refuses_other_links_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(IssueUrlError, match=re.escape(reason)):
        parse_issue_url(url)


def test_gitlab_hosts_can_be_restricted() -> None:
    url = "https://git.example.org/a/b/-/issues/3"
    with pytest.raises(IssueUrlError, match="known GitLab host"):
        parse_issue_url(url, gitlab_hosts=["gitlab.acme.io"])
    assert parse_issue_url(url, gitlab_hosts=["git.example.org"]).number == 3


def test_the_canonical_url_keeps_scheme_and_view() -> None:
    assert parse_issue_url("http://git.internal:8080/a/b/-/issues/4#note_1").url == \
        "http://git.internal:8080/a/b/-/issues/4"
    assert parse_issue_url("https://gitlab.com/acme/web/-/work_items/31/").url == \
        "https://gitlab.com/acme/web/-/work_items/31"
