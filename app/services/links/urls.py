"""Parse issue-tracker links: GitLab issues and merge requests, GitHub issues and pull requests.

Pure (no I/O). Accepted shapes:

* GitLab: ``https://<host>/<group>[/<subgroup>...]/<project>/-/issues/<n>``,
  ``.../-/work_items/<n>`` (an issue in GitLab's newer view: the same number) and
  ``.../-/merge_requests/<n>`` on gitlab.com or any host in ``gitlab_hosts``. A self-managed
  instance may live under a relative URL root (``https://host/gitlab/group/project/-/...``):
  the root stays part of the project path here, as it is in the instance's own web URLs.
  Its scheme is kept: an ``http://`` instance stays ``http://``.
* GitHub: ``https://github.com/<owner>/<repo>/issues/<n>`` and ``.../pull/<n>``.
* Jira: ``https://<site>.atlassian.net/browse/<KEY>-<n>`` (any Cloud site), and the same path
  on a Jira Server / Data Center host in ``gitlab_hosts`` (the allow-list holds the
  workspace's Jira connections too); see :mod:`app.services.links.jira_keys`.
* Linear: ``https://linear.app/<org>/issue/<TEAM>-<n>[/<title slug>]`` (see
  :mod:`app.services.links.linear_ids`).

A trailing slash, sub-page (``/diffs``), query string or fragment (``#note_123``) is tolerated
and dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.services.links import jira_keys, linear_ids

GITLAB_KINDS = {"issues": "issue", "work_items": "issue", "merge_requests": "merge_request"}
GITHUB_KINDS = {"issues": "issue", "pull": "pull_request"}

_SEGMENT = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class IssueRef:
    provider: str  # "gitlab" | "github" | "jira" | "linear"
    host: str
    project: str  # "group/sub/project", "owner/repo", a Jira project key ("PAY") or "org/TEAM"
    kind: str  # "issue" | "merge_request" | "pull_request"
    number: int
    scheme: str = "https"  # a self-managed GitLab may serve plain http
    # The GitLab path word when it is not the kind's usual one ("work_items" for an issue).
    segment: str | None = None

    @property
    def url(self) -> str:
        """The canonical URL for this reference."""
        if self.provider == linear_ids.PROVIDER:
            return linear_ids.url(self.project, self.number)
        if self.provider == "github":
            part = "pull" if self.kind == "pull_request" else "issues"
            return f"https://{self.host}/{self.project}/{part}/{self.number}"
        if self.provider == "jira":
            key = jira_keys.key(self.project, self.number)
            return f"{self.scheme}://{self.host}/browse/{key}"
        part = self.segment or ("merge_requests" if self.kind == "merge_request" else "issues")
        return f"{self.scheme}://{self.host}/{self.project}/-/{part}/{self.number}"


class IssueUrlError(ValueError):
    """The text is not a link to an issue, merge request or pull request we understand."""


class HostNotAllowed(IssueUrlError):
    """A GitLab link on a host that is not allowed."""


MAX_NUMBER = 2**31 - 1  # what the trackers (and the links table) store


def _number(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not (
            1 <= int(text) <= MAX_NUMBER):
        raise IssueUrlError(f"{text[:20]!r} is not an issue number (1 to {MAX_NUMBER})")
    return int(text)


def _project(parts: list[str]) -> str:
    if not parts or not all(_SEGMENT.match(p) for p in parts):
        raise IssueUrlError("the project path is missing or malformed")
    return "/".join(parts)


def parse_issue_url(url: str, *, gitlab_hosts: Iterable[str] | None = None) -> IssueRef:
    """Parse one link; raise :class:`IssueUrlError` with a reason a person can act on.

    GitLab's ``/-/`` path marker identifies self-managed instances too, so any host is accepted
    unless ``gitlab_hosts`` restricts them (gitlab.com is always allowed).
    """
    text = url.strip()
    try:
        split = urlsplit(text)
        port = split.port
    except ValueError as exc:  # a bad port or a malformed IPv6 host
        raise IssueUrlError(f"not a valid link ({exc})") from exc
    if split.scheme not in ("http", "https") or not split.hostname:
        raise IssueUrlError("not an http(s) link")
    host = split.hostname.lower()
    if port:
        host = f"{host}:{port}"
    parts = [p for p in split.path.split("/") if p]
    if host in ("github.com", "www.github.com"):
        # Trailing views (/files, /commits) point at the same item.
        if len(parts) < 4 or parts[2] not in GITHUB_KINDS:
            raise IssueUrlError(
                "a GitHub link looks like https://github.com/<owner>/<repo>/issues/<n> "
                "or .../pull/<n>"
            )
        return IssueRef("github", "github.com", _project(parts[:2]), GITHUB_KINDS[parts[2]],
                        _number(parts[3]))
    if host == linear_ids.HOST:
        return _linear(parts)
    known = None if gitlab_hosts is None else (
        {h.strip().lower() for h in gitlab_hosts if h.strip()} | {"gitlab.com"})
    if jira_keys.is_cloud(host) or (jira_keys.browse_path(parts) and host != "gitlab.com"
                                    and (known is None or host in known)):
        return _jira(host, parts, split.scheme)
    if known is not None:
        if host not in known and jira_keys.browse_path(parts):
            raise HostNotAllowed(f"{host} is not a known Jira host (an admin adds it with "
                                 "`okr tracker add jira --host ...`)")
        if host not in known:
            raise HostNotAllowed(
                f"{host} is neither github.com nor a known GitLab host (an admin adds it "
                "with `okr tracker add gitlab --host ...` or in OKR_GITLAB_HOSTS)"
            )
    if "-" not in parts:
        raise IssueUrlError(
            "not a link to a GitLab issue or merge request, or a GitHub issue or pull request"
        )
    dash = parts.index("-")
    tail = parts[dash + 1:]
    if len(tail) < 2 or tail[0] not in GITLAB_KINDS or dash < 2:
        raise IssueUrlError(
            "a GitLab link looks like https://<host>/<group>/<project>/-/issues/<n>, "
            ".../-/work_items/<n> or .../-/merge_requests/<n>"
        )
    return IssueRef("gitlab", host, _project(parts[:dash]), GITLAB_KINDS[tail[0]],
                    _number(tail[1]), scheme="https" if host == "gitlab.com" else split.scheme,
                    segment="work_items" if tail[0] == "work_items" else None)


def _jira(host: str, parts: list[str], scheme: str) -> IssueRef:
    """A Jira link: ``/browse/<KEY>-<n>``; a Cloud site is always https."""
    if not jira_keys.browse_path(parts):
        raise IssueUrlError(jira_keys.USAGE)
    try:
        project, number = jira_keys.parse_key(parts[1])
    except jira_keys.BadKey as exc:
        raise IssueUrlError(f"{exc}; {jira_keys.USAGE}") from exc
    return IssueRef("jira", host, project, "issue", number,
                    scheme="https" if jira_keys.is_cloud(host) else scheme)


def _linear(parts: list[str]) -> IssueRef:
    try:
        org, team, number = linear_ids.parse_path(parts)
    except linear_ids.BadIdentifier as exc:
        raise IssueUrlError(str(exc)) from exc
    return IssueRef(linear_ids.PROVIDER, linear_ids.HOST, linear_ids.project(org, team),
                    "issue", number)
