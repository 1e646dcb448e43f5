"""Jira's vocabulary, pure: issue keys (``PAY-123``), Cloud sites and their links.

A Jira issue is named by its key: the project key (a letter, then letters, digits or
underscores) and the issue's number in that project. Links look like
``https://<site>.atlassian.net/browse/PAY-123`` on Jira Cloud, the same path on a Jira
Server / Data Center host. Keys are case-insensitive in Jira (``/browse/pay-123`` opens
PAY-123); they are kept upper-case here.
"""

from __future__ import annotations

import re

CLOUD_SUFFIX = ".atlassian.net"
MAX_KEY = 50  # Jira's own limit is lower by default; anything longer is not a project key
_PROJECT = re.compile(r"^[A-Z][A-Z0-9_]*$")
USAGE = ("a Jira link looks like https://<site>.atlassian.net/browse/<KEY>-<n> (KEY: a "
         "letter, then letters, digits or _)")


class BadKey(ValueError):
    """The text is not a Jira issue key; the message says why."""


def is_cloud(host: str) -> bool:
    """A Jira Cloud site (``acme.atlassian.net``): always a Jira host, never another tracker."""
    name = host.lower().split(":", 1)[0]
    return name.endswith(CLOUD_SUFFIX) and len(name) > len(CLOUD_SUFFIX)


def parse_key(text: str) -> tuple[str, int]:
    """``PAY-123`` -> (``PAY``, 123); :class:`BadKey` for anything else."""
    raw = text.strip()
    project, dash, number = raw.upper().rpartition("-")
    if not dash or not project or len(raw) > MAX_KEY + 11:
        raise BadKey(f"{raw[:40]!r} is not a Jira issue key like PAY-123")
    if not project.isascii() or not _PROJECT.match(project) or len(project) > MAX_KEY:
        raise BadKey(f"{project[:40]!r} is not a Jira project key (a letter, then letters, "
                     "digits or _)")
    if not number.isascii() or not number.isdigit() or len(number) > 10 or not (
            1 <= int(number) <= 2**31 - 1):
        raise BadKey(f"{number[:20]!r} is not an issue number (1 to {2**31 - 1})")
    return project, int(number)


def key(project: str, number: int) -> str:
    return f"{project.upper()}-{number}"


def browse_path(parts: list[str]) -> bool:
    """Whether a link's path segments are Jira's ``/browse/<KEY>`` (anything after it, such
    as a trailing slash, is dropped)."""
    return len(parts) >= 2 and parts[0].lower() == "browse" and "-" not in parts
