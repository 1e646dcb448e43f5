"""Slack-shaped answers of the fake Web API (see tests/fakeslack.py), one function per method."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakeslack import FakeSlack

Answer = Callable[["FakeSlack", dict[str, Any]], dict[str, Any]]
_view_seq = itertools.count(1)
_file_seq = itertools.count(1)


def _err(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _dm_channel(channel: str) -> str:
    """Posting to a user id lands in the DM with that user (Slack answers with a D... id)."""
    if channel[:1] in ("U", "W"):
        return "D" + channel[1:]
    return channel


def auth_test(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "url": "https://test.slack.com/", "team": "Test Team", "user": "okr",
            "team_id": fake.team_id, "user_id": fake.bot_user_id, "bot_id": "B0BOT",
            "is_enterprise_install": False}


def users_info(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    user = fake.users.get(str(p.get("user")))
    return {"ok": True, "user": user} if user else _err("user_not_found")


def users_list(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Slack's pagination: ``limit`` (default 100 here, at most 1000) users a page from
    ``cursor``; ``next_cursor`` is empty on the last page; a cursor we never gave is refused.
    Slackbot is always listed, as in a real workspace."""
    try:
        limit = int(p.get("limit") or 100)
    except ValueError:
        return _err("invalid_limit")
    limit = max(1, min(limit, 1000))
    users = [_SLACKBOT, *fake.users.values()]
    cursor = str(p.get("cursor") or "")
    start = 0
    if cursor:
        if not cursor.startswith("dXNlcjo") or not cursor[7:].isdigit():
            return _err("invalid_cursor")
        start = int(cursor[7:])
    page = users[start:start + limit]
    more = start + limit < len(users)
    return {"ok": True, "members": page, "cache_ts": 1_700_000_000,
            "response_metadata": {"next_cursor": f"dXNlcjo{start + limit}" if more else ""}}


_SLACKBOT = {"id": "USLACKBOT", "name": "slackbot", "real_name": "Slackbot", "deleted": False,
             "is_bot": False, "tz": "America/Los_Angeles",
             "profile": {"display_name": "Slackbot", "real_name": "Slackbot"}}


def users_lookup_by_email(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    for user in fake.users.values():
        if user["profile"].get("email") == p.get("email"):
            return {"ok": True, "user": user}
    return _err("users_not_found")


def post_message(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    channel = str(p.get("channel") or "")
    if not channel:
        return _err("channel_not_found")
    user = fake.users.get(channel)
    if user is not None and user.get("deleted"):
        # Slack accepts a DM to a deactivated user; we keep it but it reaches nobody.
        pass
    channel = _dm_channel(channel)
    ts = fake.next_ts()
    message = {"channel": channel, "ts": ts, "text": p.get("text"), "blocks": p.get("blocks"),
               "thread_ts": p.get("thread_ts"), "user": fake.bot_user_id,
               "metadata": p.get("metadata")}
    fake.messages[(channel, ts)] = message
    return {"ok": True, "channel": channel, "ts": ts, "message": message}


def update(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    key = (_dm_channel(str(p.get("channel"))), str(p.get("ts")))
    if key not in fake.messages:
        return _err("message_not_found")
    message = fake.messages[key]
    message.update({"text": p.get("text"), "blocks": p.get("blocks"), "edited": True})
    return {"ok": True, "channel": key[0], "ts": key[1], "text": p.get("text")}


def delete(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    key = (_dm_channel(str(p.get("channel"))), str(p.get("ts")))
    if fake.messages.pop(key, None) is None:
        return _err("message_not_found")
    return {"ok": True, "channel": key[0], "ts": key[1]}


def post_ephemeral(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("user"):
        return _err("user_not_found")
    fake.ephemerals.append(dict(p))
    return {"ok": True, "message_ts": fake.next_ts()}


def get_permalink(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "channel": p.get("channel"),
            "permalink": f"https://test.slack.com/archives/{p.get('channel')}/p{p.get('message_ts')}"}


def _store_view(fake: FakeSlack, view: dict[str, Any], *, view_id: str | None = None,
                root_id: str | None = None, previous: str | None = None) -> dict[str, Any]:
    view_id = view_id or f"V{next(_view_seq):08d}"
    stored = {**view, "id": view_id, "team_id": fake.team_id,
              "hash": hashlib.sha1(f"{view_id}{fake.next_ts()}".encode()).hexdigest()[:20],
              "root_view_id": root_id or view_id, "previous_view_id": previous,
              "state": {"values": {}}, "private_metadata": view.get("private_metadata", "")}
    fake.views[view_id] = stored
    return stored


def _use_trigger(fake: FakeSlack, p: dict[str, Any]) -> str | None:
    trigger = p.get("trigger_id")
    if not trigger:
        return "invalid_trigger_id"
    if fake.strict_triggers and trigger in fake.used_triggers:
        return "trigger_exchanged"
    fake.used_triggers.add(str(trigger))
    return None


def views_open(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    problem = _use_trigger(fake, p)
    if problem:
        return _err(problem)
    return {"ok": True, "view": _store_view(fake, p["view"])}


def views_push(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    problem = _use_trigger(fake, p)
    if problem:
        return _err(problem)
    return {"ok": True, "view": _store_view(fake, p["view"])}


def views_update(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    view_id = p.get("view_id")
    if not view_id and p.get("external_id"):
        view_id = next((v["id"] for v in fake.views.values()
                        if v.get("external_id") == p["external_id"]), None)
    current = fake.views.get(str(view_id))
    if current is None:
        return _err("not_found")
    if p.get("hash") and p["hash"] != current["hash"]:
        return _err("hash_conflict")
    return {"ok": True, "view": _store_view(fake, p["view"], view_id=current["id"],
                                            root_id=current["root_view_id"])}


def views_publish(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    user_id = str(p.get("user_id"))
    if user_id not in fake.users:
        return _err("user_not_found")
    stored = _store_view(fake, p["view"])
    fake.homes[user_id] = stored
    return {"ok": True, "view": stored}


def conversations_open(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    users = p.get("users")
    if isinstance(users, list):
        users = ",".join(users)
    first = str(users or "").split(",")[0]
    if not first:
        return _err("users_list_not_supplied")
    return {"ok": True, "channel": {"id": _dm_channel(first)}}


def _with_metadata(message: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    include = str(p.get("include_all_metadata", "")).lower() in ("1", "true")
    return message if include else {k: v for k, v in message.items() if k != "metadata"}


def conversations_history(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Top-level messages of a channel, newest first (``oldest`` is ignored: fake ts are
    not wall-clock times)."""
    channel = _dm_channel(str(p.get("channel") or ""))
    limit = int(p.get("limit") or 100)
    found = [m for (ch, _), m in fake.messages.items()
             if ch == channel and m.get("thread_ts") in (None, "", m["ts"])]
    found = found[::-1][:limit]
    return {"ok": True, "messages": [_with_metadata(m, p) for m in found], "has_more": False}


def conversations_replies(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    channel = _dm_channel(str(p.get("channel") or ""))
    ts = str(p.get("ts") or "")
    if (channel, ts) not in fake.messages:
        return _err("thread_not_found")
    found = [m for (ch, _), m in fake.messages.items()
             if ch == channel and (m["ts"] == ts or m.get("thread_ts") == ts)]
    return {"ok": True, "messages": [_with_metadata(m, p) for m in found], "has_more": False}


def conversations_members(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Pages of ``limit`` (default 100, at most 1000) with an opaque ``next_cursor``."""
    members = fake.channel_members.get(str(p.get("channel")))
    if members is None:
        return _err("channel_not_found")
    try:
        limit = min(max(int(p.get("limit") or 100), 1), 1000)
        start = int(str(p.get("cursor") or "offset:0").removeprefix("offset:"))
    except ValueError:
        return _err("invalid_cursor")
    page = members[start:start + limit]
    more = start + limit < len(members)
    return {"ok": True, "members": page,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""}}


def conversations_info(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Any channel exists; ``is_member`` says whether the bot is among its members (for the
    channels given members in ``fake.channel_members``)."""
    channel = str(p.get("channel"))
    is_member = fake.bot_user_id in fake.channel_members.get(channel, [])
    return {"ok": True, "channel": {"id": channel, "name": channel.lower(), "is_archived": False,
                                    "is_channel": channel.startswith("C"),
                                    "is_member": is_member}}


def usergroups_users_list(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    users = fake.usergroups.get(str(p.get("usergroup")))
    if users is None:
        return _err("no_such_subteam")
    return {"ok": True, "users": users}


def usergroups_list(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Every group given to ``add_usergroup`` (or only users, named after their id)."""
    groups = []
    for gid, users in fake.usergroups.items():
        info = fake.usergroup_info.get(gid) or {"handle": gid.lower(), "name": gid}
        groups.append({"id": gid, "team_id": fake.team_id, "is_usergroup": True,
                       "handle": info["handle"], "name": info["name"], "date_delete": 0,
                       "user_count": len(users)})
    return {"ok": True, "usergroups": groups}


def files_get_upload_url(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    if not p.get("filename") or not p.get("length"):
        return _err("invalid_arguments")
    file_id = f"F{next(_file_seq):08d}"
    fake.files[file_id] = {"id": file_id, "name": p["filename"], "length": int(p["length"]),
                           "uploaded": 0}
    return {"ok": True, "upload_url": f"{fake.base_url}/upload/{file_id}", "file_id": file_id}


def upload(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    f = fake.files.get(str(p.get("file_id")))
    if f is None:
        return _err("file_not_found")
    f["uploaded"] = int(p.get("length") or 0)
    return {"ok": True}


def files_complete_upload(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    files = p.get("files") or []
    out = []
    for item in files:
        f = fake.files.get(str(item.get("id")))
        if f is None:
            return _err("file_not_found")
        f.update({"title": item.get("title"), "channel": p.get("channel_id"),
                  "initial_comment": p.get("initial_comment")})
        out.append({"id": f["id"], "name": f["name"], "title": item.get("title")})
    return {"ok": True, "files": out}


def oauth_v2_access(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    """Exchanges any code starting with "good" for a bot token of ``fake.team_id`` ("good-T0X"
    for team T0X), and "org" for an Enterprise Grid organisation-wide install of E0ORG."""
    code = str(p.get("code", ""))
    common = {"ok": True, "app_id": "A0OKR", "authed_user": {"id": "U0ADA"},
              "scope": "chat:write,commands", "token_type": "bot",
              "bot_user_id": fake.bot_user_id}
    if code == "org":
        return {**common, "access_token": "xoxb-oauth-E0ORG", "team": None,
                "enterprise": {"id": "E0ORG", "name": "Grid Org"}, "is_enterprise_install": True}
    if not code.startswith("good"):
        return _err("invalid_code")
    team = code.removeprefix("good-") if code.startswith("good-") else fake.team_id
    return {**common, "access_token": f"xoxb-oauth-{team}",
            "team": {"id": team, "name": f"Team {team}"}, "enterprise": None,
            "is_enterprise_install": False}


def auth_revoke(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "revoked": True}


def response(fake: FakeSlack, p: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True}


ANSWERS: dict[str, Answer] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "conversations.open": conversations_open,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.info": conversations_info,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "files.getUploadURLExternal": files_get_upload_url,
    "files.completeUploadExternal": files_complete_upload,
    "upload": upload,
    "response": response,
    "oauth.v2.access": oauth_v2_access,
    "auth.revoke": auth_revoke,
}


def answer(fake: FakeSlack, method: str, p: dict[str, Any], path: str) -> dict[str, Any]:
    handler = ANSWERS.get(method)
    if handler is None:
        return _err("unknown_method")
    return handler(fake, p)
