"""Linear's issue identifiers and links, pure (no I/O).

A Linear issue is named by its team's key and a number, ``ENG-123``, and linked as
``https://linear.app/<org>/issue/ENG-123/<optional-slug>``. The slug follows the title and
changes with it, so it is dropped, like a query or a fragment. Links store the project as
``<org>/<TEAM>``: the organisation's URL slug lowercased (Linear's are), the team key
uppercased (Linear shows and answers it so, and matches it whatever the case).
"""

from __future__ import annotations

import re

HOST = "linear.app"
PROVIDER = "linear"
MAX_NUMBER = 2**31 - 1
# A team key is 1 to 7 characters in Linear; longer is allowed here in case that grows, but
# it starts with a letter and holds letters and digits only.
_TEAM = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}$")
_ORG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
URL_SHAPE = "https://linear.app/<org>/issue/<TEAM>-<number>"


class BadIdentifier(ValueError):
    """Not a Linear issue identifier or link; the message says why."""


def parse_identifier(text: str) -> tuple[str, int]:
    """``ENG-123`` -> ("ENG", 123); :class:`BadIdentifier` for anything else."""
    team, sep, number = text.strip().rpartition("-")
    if not sep or not _TEAM.match(team):
        raise BadIdentifier(f"{text[:40]!r} is not a Linear issue identifier (e.g. ENG-123: "
                            "a team key of letters and digits, a dash, a number)")
    if not number.isascii() or not number.isdigit() or len(number) > 10 or not (
            1 <= int(number) <= MAX_NUMBER):
        raise BadIdentifier(f"{text[:40]!r} does not end in an issue number (1 to "
                            f"{MAX_NUMBER})")
    return team.upper(), int(number)


def parse_org(text: str) -> str:
    org = text.strip().lower()
    if not _ORG.match(org):
        raise BadIdentifier(f"{text[:70]!r} is not a Linear organisation's URL slug")
    return org


def parse_path(parts: list[str]) -> tuple[str, str, int]:
    """A link's path segments (``["acme", "issue", "ENG-1", "slug"]``) -> (org, TEAM, n)."""
    if len(parts) < 3 or parts[1] != "issue":
        raise BadIdentifier(f"a Linear link looks like {URL_SHAPE}[/<title>]")
    team, number = parse_identifier(parts[2])
    return parse_org(parts[0]), team, number


def project(org: str, team: str) -> str:
    """How links store a Linear issue's project: ``acme/ENG``."""
    return f"{org.lower()}/{team.upper()}"


def split_project(value: str) -> tuple[str, str]:
    """``acme/ENG`` -> ("acme", "ENG")."""
    org, _sep, team = value.rpartition("/")
    return org.lower(), team.upper()


def identifier(project_path: str, number: int) -> str:
    """``ENG-123`` for the issue ``number`` of ``acme/ENG``."""
    return f"{split_project(project_path)[1]}-{number}"


def url(project_path: str, number: int) -> str:
    """The canonical link: ``https://linear.app/acme/issue/ENG-123``."""
    org, team = split_project(project_path)
    return f"https://{HOST}/{org}/issue/{team}-{number}"
