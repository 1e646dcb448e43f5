"""Linear links and webhook payloads, pure: parsing, canonical form, events, freshness."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.services.errors import InvalidValue
from app.services.links import linear_events
from app.services.links.refs import ItemState, parse, short_ref
from app.services.links.urls import IssueRef, IssueUrlError, parse_issue_url
from app.services.links.webhooks import BadPayload

PAYLOADS = Path(__file__).parents[2] / "fixtures" / "payloads"
SENT = datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("url", [
    "https://linear.app/acme/issue/ENG-123",
    "https://linear.app/acme/issue/ENG-123/onboarding-checklist-loses-its-progress",
    "https://linear.app/Acme/issue/eng-123/slug/?utm=1#comment-4",
    " https://linear.app/acme/issue/Eng-123 ",
    "http://linear.app/acme/issue/ENG-123",
])
def test_parses_linear_links(url: str) -> None:
    ref = parse_issue_url(url)
    assert ref == IssueRef("linear", "linear.app", "acme/ENG", "issue", 123)
    assert ref.url == "https://linear.app/acme/issue/ENG-123"
    assert parse_issue_url(ref.url) == ref
    assert short_ref(ref.provider, ref.project, ref.kind, ref.number) == "ENG-123"
    # A project stored lowercased (an import keeps the URL's case) still reads ENG-123.
    assert short_ref("linear", "acme/eng", "issue", 123) == "ENG-123"


def test_a_gitlab_allow_list_does_not_refuse_linear() -> None:
    ref = parse_issue_url("https://linear.app/acme/issue/OPS2-7", gitlab_hosts=["gitlab.com"])
    assert (ref.project, ref.number) == ("acme/OPS2", 7)


@pytest.mark.parametrize(("url", "reason"), [
    ("https://linear.app/acme/issue/ENG", "is not a Linear issue identifier"),
    ("https://linear.app/acme/issue/123", "is not a Linear issue identifier"),
    ("https://linear.app/acme/issue/-123", "is not a Linear issue identifier"),
    ("https://linear.app/acme/issue/E_NG-1", "is not a Linear issue identifier"),
    ("https://linear.app/acme/issue/ENG-0", "does not end in an issue number"),
    ("https://linear.app/acme/issue/ENG-1x", "does not end in an issue number"),
    ("https://linear.app/acme/issue/ENG-99999999999", "does not end in an issue number"),
    ("https://linear.app/acme/issue/ENG-١٢", "does not end in an issue number"),
    ("https://linear.app/acme/project/onboarding-1234", "a Linear link looks like"),
    ("https://linear.app/acme/issue", "a Linear link looks like"),
    ("https://linear.app/acme", "a Linear link looks like"),
    ("https://linear.app/ac_me/issue/ENG-1", "is not a Linear organisation"),
])
def test_refuses_malformed_linear_links_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(IssueUrlError, match=re.escape(reason)):
        parse_issue_url(url)
    with pytest.raises(InvalidValue, match="is not a link we can track") as exc:
        parse(url, gitlab_hosts=["gitlab.com"])
    assert exc.value.field == "url"


# --- webhook payloads ----------------------------------------------------------------------


def test_an_update_to_a_completed_state_is_closed() -> None:
    item = linear_events.issue_item(payload("linear_issue_update.json"))
    assert item == ItemState("linear", "linear.app", "acme/ENG", "issue", 123, "closed",
                             datetime(2026, 3, 2, 9, 10, tzinfo=UTC),
                             "Onboarding checklist loses its progress")


def test_a_created_issue_is_open_and_a_removed_one_deleted() -> None:
    created = linear_events.issue_item(payload("linear_issue_create.json"))
    assert created is not None and (created.state, created.number) == ("open", 123)
    removed = linear_events.issue_item(payload("linear_issue_remove.json"))
    # Final: never ordered against later edits.
    assert removed is not None and (removed.state, removed.updated_at) == ("deleted", None)


@pytest.mark.parametrize(("kind", "canceled_done", "state"), [
    ("triage", False, "open"), ("backlog", False, "open"), ("started", True, "open"),
    ("completed", False, "closed"), ("canceled", False, "open"), ("canceled", True, "closed"),
])
def test_state_types(kind: str, canceled_done: bool, state: str) -> None:
    body = payload("linear_issue_update.json")
    body["data"]["state"]["type"] = kind
    item = linear_events.issue_item(body, canceled_done=canceled_done)
    assert item is not None and item.state == state


def test_other_types_and_actions_are_ignored() -> None:
    assert linear_events.issue_item(payload("linear_comment_create.json")) is None
    body = payload("linear_issue_update.json")
    body["action"] = "restore"
    assert linear_events.issue_item(body) is None
    body["type"], body["action"] = "Project", "update"
    assert linear_events.issue_item(body) is None


def _broken(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(payload("linear_issue_update.json"))
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


@pytest.mark.parametrize(("body", "reason"), [
    ([], "not a JSON object"),
    (_broken(("type",), KeyError), "type or action is missing"),
    (_broken(("action",), 3), "type or action is missing"),
    (_broken(("data",), "x"), "data is missing"),
    (_broken(("data", "identifier"), KeyError), "data.identifier"),
    (_broken(("data", "identifier"), "ENG-0"), "data.identifier"),
    (_broken(("data", "identifier"), ["ENG-1"]), "data.identifier"),
    (_broken(("data", "state"), KeyError), "data.state.type"),
    (_broken(("data", "state", "type"), "done"), "data.state.type"),
    (_broken(("url",), "https://example.com/acme/issue/ENG-1"), "url is missing"),
])
def test_malformed_payloads_say_why(body: Any, reason: str) -> None:
    if isinstance(body, dict) and reason == "url is missing":
        body["data"]["url"] = None
    with pytest.raises(BadPayload, match=re.escape(reason)):
        linear_events.issue_item(body)


def test_the_org_comes_from_the_url_and_the_data_url_is_the_fallback() -> None:
    body = payload("linear_issue_update.json")
    body["url"] = "https://linear.app/Beta-Corp/issue/ENG-123/x"
    item = linear_events.issue_item(body)
    assert item is not None and item.project == "beta-corp/ENG"
    del body["url"]
    item = linear_events.issue_item(body)
    assert item is not None and item.project == "acme/ENG"


def test_signatures() -> None:
    raw = b'{"type": "Issue"}'
    good = linear_events.signature("s3cret", raw)
    linear_events.verify(raw, good, "s3cret")
    linear_events.verify(raw, good.upper(), "s3cret")  # hex, whatever its case
    for given in (None, "", "00" * 32, good[:-1], "sha256=" + good):
        with pytest.raises(linear_events.Unauthenticated):
            linear_events.verify(raw, given, "s3cret")
    with pytest.raises(linear_events.Unauthenticated):
        linear_events.verify(raw + b" ", good, "s3cret")
    with pytest.raises(linear_events.Unauthenticated):
        linear_events.verify(raw, good, "other")


@pytest.mark.parametrize(("offset", "fresh"), [
    (0, True), (59, True), (-59, True), (61, False), (-61, False), (-86400, False)])
def test_deliveries_older_or_newer_than_a_minute_are_refused(offset: int, fresh: bool) -> None:
    body = {"webhookTimestamp": int((SENT + timedelta(seconds=offset)).timestamp() * 1000)}
    if fresh:
        linear_events.check_fresh(body, SENT)
    else:
        with pytest.raises(linear_events.Unauthenticated, match="from now"):
            linear_events.check_fresh(body, SENT)


@pytest.mark.parametrize("stamp", [None, "1772442600000", True, 1e300, float("nan")])
def test_a_missing_or_broken_timestamp_is_a_bad_payload(stamp: Any) -> None:
    body = {} if stamp is None else {"webhookTimestamp": stamp}
    with pytest.raises((BadPayload, linear_events.Unauthenticated)):
        linear_events.check_fresh(body, SENT)


def test_an_archived_issue_that_is_not_trashed_keeps_its_state() -> None:
    body = payload("linear_issue_remove.json")
    body["data"]["trashed"] = False  # archived (Linear archives done issues), not deleted
    item = linear_events.issue_item(body)
    assert item is not None and item.state == "closed"
    del body["data"]["trashed"]  # no word either way: a removal
    item = linear_events.issue_item(body)
    assert item is not None and item.state == "deleted"
