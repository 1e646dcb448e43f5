"""Choosing where a team's members come from in Slack (``Team.members_from``): none (members
by hand), a channel or a user group, as the team settings modal and the first-run checklist
offer it.

A source is checked with Slack before it is stored: the channel or group must exist and the
app must be able to list its members (one page is read). The problem comes back as a sentence
for the form to show inline. Once stored, teams_sync keeps the membership in step.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from app.models import Team

log = logging.getLogger(__name__)

BY_HAND, CHANNEL, USERGROUP = "none", "channel", "usergroup"
KINDS = (BY_HAND, CHANNEL, USERGROUP)
MAX_GROUPS = 100  # the options one answer of the picker may hold
_ID = {CHANNEL: re.compile(r"^[CG][A-Z0-9]{2,30}$"), USERGROUP: re.compile(r"^S[A-Z0-9]{2,30}$")}
_FORMAT = {CHANNEL: "pick a channel", USERGROUP: "pick a user group (its id starts with S)"}
_NOT_READABLE = {
    "channel_not_found": "the app cannot see that channel: invite it there first "
                         "(/invite @ the app in the channel), or pick another",
    "not_in_channel": "the app is not in that channel: invite it there first",
    "no_such_subteam": "there is no such user group in this Slack workspace",
    "subteam_not_found": "there is no such user group in this Slack workspace",
    "missing_scope": "the app may not read it: reinstall the app so that it has the scopes "
                     "of manifest.yaml",
}


def stored(team: Team) -> tuple[str, str | None]:
    """``(kind, slack id)`` of a team as the form starts (``("none", None)``: by hand)."""
    spec = team.members_from or {}
    for kind in (CHANNEL, USERGROUP):
        value = spec.get(kind)
        if isinstance(value, str) and value:
            return kind, value
    return BY_HAND, None


def parse(raw: Mapping[str, Any], errors: dict[str, str]) -> dict[str, str] | None:
    """The source a form asks for (None: by hand), from ``members_kind``, ``members_channel``
    and ``members_group``; problems go into ``errors`` under those names."""
    kind = raw.get("members_kind") or BY_HAND
    if kind not in KINDS:
        errors["members_kind"] = "pick where the members come from"
        return None
    if kind == BY_HAND:
        return None
    field = "members_channel" if kind == CHANNEL else "members_group"
    value = raw.get(field)
    value = value.strip() if isinstance(value, str) else ""
    if not _ID[kind].match(value):
        errors[field] = _FORMAT[kind]
        return None
    return {kind: value}


def problem(client: WebClient, source: Mapping[str, str]) -> str | None:
    """Why the app cannot follow this channel or group (None: it can)."""
    kind, slack_id = next(iter(source.items()))
    try:
        if kind == USERGROUP:
            client.usergroups_users_list(usergroup=slack_id)
        else:
            client.conversations_members(channel=slack_id, limit=1)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        log.info("members_source.refused", extra={"kind": kind, "slack_error": error})
        return _NOT_READABLE.get(error, f"Slack would not list its members ({error}): "
                                        "try again")
    except OSError:
        return "Slack could not be reached: try again"
    return None


def group_options(client: WebClient, query: str = "") -> list[tuple[str, str]] | None:
    """The workspace's user groups whose handle, name or id contains ``query``, as
    (id, "@handle (name)"), sorted by handle, at most :data:`MAX_GROUPS`; None when Slack
    would not list them. Asked for by the picker as someone types, never before a modal
    opens: a modal must open within the 3 s of its trigger."""
    try:
        resp = client.usergroups_list(include_disabled=False)
    except (SlackApiError, OSError) as exc:
        log.info("members_source.groups_failed", extra={"error": type(exc).__name__})
        return None
    needle = query.strip().lstrip("@").lower()
    found = []
    for group in resp.get("usergroups") or []:
        gid, handle = group.get("id"), group.get("handle") or ""
        if not isinstance(gid, str) or group.get("date_delete"):
            continue
        name = str(group.get("name") or "")
        label = f"@{handle} ({name})" if name and name != handle else f"@{handle or gid}"
        if needle and needle not in label.lower() and needle not in gid.lower():
            continue
        found.append((gid, label))
    return sorted(found, key=lambda g: g[1].lower())[:MAX_GROUPS]


def typed_id(query: str) -> str | None:
    """A user group id typed into the picker (``S0123ABCD``), when Slack will not list them."""
    text = query.strip().upper()
    return text if _ID[USERGROUP].match(text) else None
