"""The /okr router: parsing, help, aliases and admin-only subcommands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handlers import router
from handlers.router import CommandRequest, Reply, split_text, subcommand, user_mention
from tests.fixtures.slack import Harness


@pytest.fixture()
def admin_only() -> Iterator[None]:
    @subcommand("purge-test", help="An admin-only test subcommand", admin=True)
    def purge(req: CommandRequest) -> Reply:
        return Reply(f"purged by {req.person.slack_id}")

    yield
    router.REGISTRY.pop("purge-test", None)


def test_split_text() -> None:
    assert split_text('  LIST <@U1|ada>   at-risk ') == ("list", ["<@U1|ada>", "at-risk"],
                                                         "<@U1|ada>   at-risk")
    assert split_text('show "Ship v2"') == ("show", ["Ship v2"], '"Ship v2"')
    assert split_text('show "unbalanced') == ("show", ['"unbalanced'], '"unbalanced')
    assert split_text("") == ("", [], "")
    assert user_mention("<@U0ABC|ada>") == "U0ABC" and user_mention("@ada") is None


def test_admin_subcommand_refuses_others_politely(slack: Harness, admin_only: None) -> None:
    _, body = slack.command("U0BOB", "purge-test")
    assert body["text"].startswith(":lock:") and "for OKR admins" in body["text"]
    _, help_body = slack.command("U0BOB", "help")
    assert "purge-test" not in str(help_body)


def test_admin_subcommand_runs_for_admins(slack: Harness, admin_only: None) -> None:
    _, body = slack.command("U0DEE", "purge-test")  # is_admin in the database
    assert body["text"] == "purged by U0DEE"
    _, help_body = slack.command("U0DEE", "help")
    assert "purge-test" in str(help_body) and "(admin)" in str(help_body)


def test_settings_admins_are_admins(slack: Harness, admin_only: None) -> None:
    slack.env.settings.admins.append("U0CY")
    try:
        _, body = slack.command("U0CY", "purge-test")
    finally:
        slack.env.settings.admins.remove("U0CY")
    assert body["text"] == "purged by U0CY"


def test_aliases_and_case(slack: Harness) -> None:
    slack.command("U0CY", "CI")
    assert slack.fake.last_view() is not None


def test_failing_subcommand_tells_the_user(slack: Harness) -> None:
    @subcommand("boom-test", help="fails")
    def boom(req: CommandRequest) -> Reply:
        raise RuntimeError("secret internals")

    try:
        _, body = slack.command("U0BOB", "boom-test")
    finally:
        router.REGISTRY.pop("boom-test", None)
    assert "Something went wrong" in body["text"] and "secret" not in body["text"]


def test_slow_subcommand_replies_through_response_url(slack: Harness) -> None:
    @subcommand("slow-test", help="slow", slow=True)
    def slow(req: CommandRequest) -> Reply:
        return Reply("done later")

    try:
        req = slack.req.command("U0BOB", "slow-test")
        resp = slack.send(req)
    finally:
        router.REGISTRY.pop("slow-test", None)
    assert resp.status == 200 and resp.body == ""
    assert slack.fake.responses(req.response_key)[0]["text"] == "done later"
