"""Saved searches as people write them: the import file's mapping, Slack's one line, checks.

Pure (no I/O). A search is one of:

* ``{provider: gitlab, project: acme/web, labels: [okr-q1], milestone: "Q1"}`` (``host``
  defaults to gitlab.com; labels and milestone combine, at least one is given);
* ``{provider: github, repo: acme/api, labels: [okr-q1], milestone: "Q1"}`` (likewise);
* ``{provider: jira, host: acme.atlassian.net, jql: "project = PAY AND labels = okr-q1"}``;
* ``{provider: linear, org: acme, project: "Onboarding"}``.

In Slack the same search is one line (:func:`parse_line`, :func:`describe`):
``gitlab acme/web labels=okr-q1,bug milestone="Q1 2026"`` (``host=...`` for another GitLab),
``github acme/api milestone=Q1``, ``jira acme.atlassian.net project = PAY AND ...`` and
``linear acme Onboarding``: for Jira and Linear the rest of the line is the JQL or the
project's name, as typed.

Errors are :class:`QuerySpecError` with the key they are about, so the import file names its
path, Slack the input and the API the field.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROVIDERS = ("gitlab", "github", "jira", "linear")
LINEAR_HOST = "linear.app"
MAX_LABELS = 20
MAX_LABEL = 255
MAX_JQL = 2000
MAX_NAME = 200
_KEYS = {
    "gitlab": ("provider", "host", "project", "labels", "milestone"),
    "github": ("provider", "repo", "labels", "milestone"),
    "jira": ("provider", "host", "jql"),
    "linear": ("provider", "org", "project"),
}
_SEGMENT = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
USAGE = ("gitlab <group/project> labels=a,b milestone=Q1 [host=...] · github <owner/repo> "
         "labels=a milestone=Q1 · jira <host> <JQL> · linear <org> <project>")


class QuerySpecError(ValueError):
    """A search that cannot be followed; ``key`` is the part it is about."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.message, self.key = message, key


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A validated search. ``project`` is the GitLab project, GitHub repository or Linear
    project; ``host`` the tracker's host (github.com, linear.app for Linear)."""

    provider: str
    host: str
    project: str = ""
    labels: tuple[str, ...] = ()
    milestone: str | None = None
    jql: str | None = None
    org: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The search as the import file spells it (what is stored and exported)."""
        out: dict[str, Any] = {"provider": self.provider}
        if self.provider == "gitlab":
            if self.host != "gitlab.com":
                out["host"] = self.host
            out["project"] = self.project
        elif self.provider == "github":
            out["repo"] = self.project
        elif self.provider == "jira":
            out.update(host=self.host, jql=self.jql)
        else:
            out.update(org=self.org, project=self.project)
        if self.labels:
            out["labels"] = list(self.labels)
        if self.milestone is not None:
            out["milestone"] = self.milestone
        return out

    @property
    def match_project(self) -> str:
        """The project a webhook item must be in (lowercased), "" when none is named."""
        return self.project.lower() if self.provider in ("gitlab", "github") else ""


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool) -> str | None:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:g}" if isinstance(value, float) else str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise QuerySpecError("required", key)
        return None
    if not isinstance(value, str):
        raise QuerySpecError("must be text", key)
    text = value.strip()
    if len(text) > limit:
        raise QuerySpecError(f"must be at most {limit} characters", key)
    if any(ord(c) < 32 for c in text):
        raise QuerySpecError("must be one line of printable text", key)
    return text


def _path(text: str, key: str, *, parts: int | None) -> str:
    segments = text.strip("/").split("/")
    if not all(_SEGMENT.match(s) for s in segments) or (
            parts is not None and len(segments) != parts) or len(segments) < 2:
        shape = "owner/repo" if parts == 2 else "group/project (or group/sub/project)"
        raise QuerySpecError(f"{text[:100]!r} is not a {shape} path", key)
    return "/".join(segments)


def _host(text: str, key: str = "host") -> str:
    host = text.strip().lower().removeprefix("https://").rstrip("/")
    if not _HOST.match(host) or len(host) > MAX_NAME:
        raise QuerySpecError(f"{text[:100]!r} is not a host name (e.g. gitlab.example.com)", key)
    return host


def _labels(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise QuerySpecError("must be a list of labels", "labels")
    out: list[str] = []
    for n, raw in enumerate(items):
        if not isinstance(raw, str) or not raw.strip():
            raise QuerySpecError(f"label {n + 1} must be non-empty text", "labels")
        label = raw.strip()
        if "," in label or len(label) > MAX_LABEL or any(ord(c) < 32 for c in label):
            raise QuerySpecError(f"{label[:60]!r} is not a label (no commas, at most "
                                 f"{MAX_LABEL} characters)", "labels")
        if label.casefold() not in {x.casefold() for x in out}:
            out.append(label)
    if len(out) > MAX_LABELS:
        raise QuerySpecError(f"at most {MAX_LABELS} labels", "labels")
    return tuple(out)


def from_mapping(data: Any) -> QuerySpec:
    """Validate a search given as a mapping (the import file's, the API's)."""
    if not isinstance(data, Mapping):
        raise QuerySpecError("must be a mapping, e.g. {provider: gitlab, project: acme/web, "
                             "labels: [okr-q1]}")
    provider = data.get("provider")
    if provider not in PROVIDERS:
        raise QuerySpecError(f"must be one of {', '.join(PROVIDERS)}", "provider")
    for key in data:
        if key not in _KEYS[provider]:
            raise QuerySpecError(f"unknown key for a {provider} search (it takes "
                                 f"{', '.join(_KEYS[provider][1:])})", str(key))
    if provider in ("gitlab", "github"):
        name = "project" if provider == "gitlab" else "repo"
        path = _path(str(_text(data, name, 300, required=True)), name,
                     parts=2 if provider == "github" else None)
        host = (_host(_text(data, "host", MAX_NAME, required=False) or "gitlab.com")
                if provider == "gitlab" else "github.com")
        labels = _labels(data.get("labels"))
        milestone = _text(data, "milestone", MAX_LABEL, required=False)
        if not labels and milestone is None:
            raise QuerySpecError("give labels, a milestone or both (a whole project is too "
                                 "broad a search)", "labels")
        return QuerySpec(provider, host, path, labels, milestone)
    if provider == "jira":
        host = _host(str(_text(data, "host", MAX_NAME, required=True)))
        return QuerySpec("jira", host, jql=_text(data, "jql", MAX_JQL, required=True))
    org = str(_text(data, "org", 100, required=True))
    if not _SLUG.match(org):
        raise QuerySpecError(f"{org[:60]!r} is not a Linear workspace slug (as in "
                             "linear.app/<org>)", "org")
    return QuerySpec("linear", LINEAR_HOST, str(_text(data, "project", MAX_NAME, required=True)),
                     org=org)


def check_host(spec: QuerySpec, gitlab_hosts: Iterable[str]) -> None:
    """A GitLab search runs on an allowed host only (the link allow-list,
    :func:`app.services.links.hosts.link_hosts`)."""
    if spec.provider != "gitlab":
        return
    allowed = {h.strip().lower() for h in gitlab_hosts} | {"gitlab.com"}
    if spec.host not in allowed:
        raise QuerySpecError(f"{spec.host} is not a known GitLab host (an admin adds it with "
                             "`okr tracker add gitlab --host ...` or in OKR_GITLAB_HOSTS)",
                             "host")


def parse_line(text: str) -> QuerySpec | None:
    """Slack's one line (see the module doc); None for an empty line (no search)."""
    line = text.strip()
    if not line:
        return None
    if "\n" in line or len(line) > MAX_JQL + 300:
        raise QuerySpecError("the search is one line")
    provider, _, rest = line.partition(" ")
    provider, rest = provider.lower(), rest.strip()
    if provider not in PROVIDERS:
        raise QuerySpecError(f"start with {', '.join(PROVIDERS)}: {USAGE}", "provider")
    first, _, tail = rest.partition(" ")
    if provider == "jira":
        return from_mapping({"provider": "jira", "host": first, "jql": tail})
    if provider == "linear":
        return from_mapping({"provider": "linear", "org": first, "project": tail})
    try:
        words = shlex.split(tail)
    except ValueError as exc:
        raise QuerySpecError(f"unbalanced quotes ({exc})") from None
    data: dict[str, Any] = {"provider": provider,
                            "project" if provider == "gitlab" else "repo": first}
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or key not in ("labels", "milestone", "host"):
            raise QuerySpecError(f"{word[:60]!r}: expected labels=..., milestone=..."
                                 + (" or host=..." if provider == "gitlab" else ""), "labels")
        data[key] = [v for v in value.split(",") if v.strip()] if key == "labels" else value
    return from_mapping(data)


def describe(spec: QuerySpec) -> str:
    """The one line :func:`parse_line` reads back."""
    if spec.provider == "jira":
        return f"jira {spec.host} {spec.jql}"
    if spec.provider == "linear":
        return f"linear {spec.org} {spec.project}"
    words = [spec.provider, spec.project]
    if spec.labels:
        words.append("labels=" + shlex.quote(",".join(spec.labels)))
    if spec.milestone is not None:
        words.append("milestone=" + shlex.quote(spec.milestone))
    if spec.provider == "gitlab" and spec.host != "gitlab.com":
        words.append(f"host={spec.host}")
    return " ".join(words)


def stored(spec: Mapping[str, Any]) -> QuerySpec:
    """A stored search read back (it was valid when stored)."""
    return from_mapping(spec)
