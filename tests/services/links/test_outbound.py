"""Outbound tracker calls: private addresses refused unless allowed, answers bounded, link
numbers bounded, and one host allow-list for every link source."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from app.models import Workspace
from app.services.data.imports import load
from app.services.errors import InvalidValue
from app.services.links import attach
from app.services.links.hosts import BlockedAddress, check_address
from app.services.links.http import ForgeClient, ForgeError
from app.services.links.urls import IssueUrlError, parse_issue_url
from tests.fakeforge import FakeGitLab, running
from tests.fixtures.web import seed
from tests.services.helpers import completed_example, dump


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/api/v4", "http://127.0.0.5:8080/", "http://10.0.0.1/", "http://[::1]/",
    "https://169.254.169.254/latest/meta-data", "https://192.168.1.10/", "https://172.16.0.1/",
    "https://100.64.0.1/", "https://0.0.0.0/", "https://[::ffff:127.0.0.1]/",
    "https://[fe80::1]/", "https://224.0.0.1/", "http://localhost:9/",
])
def test_private_and_special_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="OKR_ALLOW_PRIVATE_HOSTS"):
        check_address(url, ())


def test_an_allowed_host_may_be_private() -> None:
    check_address("http://127.0.0.1:8080/api", ["127.0.0.1"])  # any port
    check_address("http://10.0.0.1:8443/api", ["10.0.0.1:8443"])  # this port only
    with pytest.raises(BlockedAddress):
        check_address("http://10.0.0.1:9000/api", ["10.0.0.1:8443"])
    check_address("https://8.8.8.8/", ())  # a public address needs nothing


def test_a_metadata_address_is_never_called() -> None:
    client = ForgeClient(provider="gitlab", base_url="http://169.254.169.254/api/v4",
                         headers={"PRIVATE-TOKEN": "glpat-x"}, timeout=(0.5, 0.5),
                         max_attempts=1, sleep=lambda _s: None)
    started = time.monotonic()
    with pytest.raises(ForgeError, match="link-local or private"):
        client.get("projects")
    assert time.monotonic() - started < 0.5 and client.waited == 0


@pytest.fixture()
def gitlab() -> Iterator[FakeGitLab]:
    with running(FakeGitLab()) as forge:
        assert isinstance(forge, FakeGitLab)
        yield forge


def test_an_oversized_answer_is_refused(gitlab: FakeGitLab) -> None:
    gitlab.add("acme/web", "issue", 12, "opened")
    gitlab.pad_bytes = 50_000
    client = ForgeClient(provider="gitlab", base_url=f"{gitlab.url}/api/v4", headers={},
                         allow_private=["127.0.0.1"], max_bytes=10_000, max_attempts=1)
    with pytest.raises(ForgeError, match="larger than 10000 bytes"):
        client.get("projects/acme%2Fweb/issues/12")
    gitlab.pad_bytes = 0
    assert client.get("projects/acme%2Fweb/issues/12").json()["iid"] == 12


def test_a_same_origin_redirect_is_followed_and_checked(gitlab: FakeGitLab) -> None:
    gitlab.add("acme/web", "issue", 12, "opened")
    gitlab.redirect_to, gitlab.redirects_left = gitlab.url, 1  # e.g. a renamed project
    client = ForgeClient(provider="gitlab", base_url=f"{gitlab.url}/api/v4",
                         headers={"PRIVATE-TOKEN": "glpat-x"}, allow_private=["127.0.0.1"])
    assert client.get("projects/acme%2Fweb/issues/12").json()["iid"] == 12
    assert [(h.status, h.auth) for h in gitlab.api_hits()] == [(302, "glpat-x"),
                                                                (200, "glpat-x")]
    gitlab.redirects_left = None  # a loop is given up after a few hops
    with pytest.raises(ForgeError, match="redirected more than 3 times"):
        client.get("projects/acme%2Fweb/issues/12")


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999", "0", "１２"])
def test_issue_numbers_are_bounded_when_parsed(number: str) -> None:
    with pytest.raises(IssueUrlError, match="is not an issue number"):
        parse_issue_url(f"https://gitlab.com/acme/web/-/issues/{number}")
    assert parse_issue_url("https://gitlab.com/acme/web/-/issues/2147483647").number == 2**31 - 1


def test_a_huge_issue_number_is_a_clear_error_when_linking(session: Session,
                                                          now: datetime) -> None:
    org = seed(session, now)
    with pytest.raises(InvalidValue, match="is not an issue number"):
        attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
                   url="https://github.com/acme/api/issues/" + "9" * 40, now=now,
                   actor_label="t", gitlab_hosts=["gitlab.com"])


def test_an_import_link_to_a_host_not_allowed_is_refused(session: Session,
                                                         now: datetime) -> None:
    """Finding: import files skipped OKR_GITLAB_HOSTS, so reconciliation called any host."""
    doc = completed_example()
    doc["objectives"][1]["key_results"][2]["links"] += [
        "https://gitlab.evil.example/acme/web/-/issues/1"]
    ws = Workspace(name="acme", created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    with pytest.raises(load.ImportInvalid) as info:
        load.import_text(session=session, workspace=ws, text=dump(doc), now=now,
                         gitlab_hosts=["gitlab.example.com"])
    assert [str(p) for p in info.value.problems] == [
        "objectives[1].key_results[2].links[2]: gitlab.evil.example is neither github.com nor "
        "a known GitLab host (an admin adds it with `okr tracker add gitlab --host ...` or in "
        "OKR_GITLAB_HOSTS)"]
