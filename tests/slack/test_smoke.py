from tests.fixtures.slack import Harness


def test_help_lists_subcommands(slack: Harness) -> None:
    resp, body = slack.command("U0BOB", "help")
    assert resp.status == 200
    assert "checkin" in body["text"]


def test_checkin_command_opens_modal(slack: Harness) -> None:
    resp, _body = slack.command("U0BOB", "checkin")
    assert resp.status == 200
    view = slack.fake.last_view()
    assert view is not None and view["callback_id"] == "okr_checkin"
