"""Events (App Home, user changes, uninstall), retries and request verification."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Person, ProcessedEvent
from tests.fixtures.slack import Harness
from tests.services.helpers import counts


def home_opened(slack: Harness, user: str, event_id: str, retry: int | None = None) -> int:
    req = slack.req.event({"type": "app_home_opened", "user": user, "tab": "home",
                           "channel": "D0X"}, event_id=event_id, retry_num=retry)
    return slack.send(req).status


def test_app_home_opened_publishes_home(slack: Harness) -> None:
    assert home_opened(slack, "U0BOB", "Ev1") == 200
    home = slack.fake.home("U0BOB")
    assert home is not None
    blocks = str(home["blocks"])
    assert "Grow activation" in blocks and "Engineering" in blocks
    assert "okr_open_checkin" in blocks and "okr_new_objective" in blocks
    assert "okr_go_away" in blocks
    assert "A private plan" not in blocks


def test_event_retry_is_processed_once(slack: Harness) -> None:
    home_opened(slack, "U0BOB", "Ev2")
    home_opened(slack, "U0BOB", "Ev2", retry=1)
    home_opened(slack, "U0BOB", "Ev2", retry=2)
    assert len(slack.fake.calls_to("views.publish")) == 1
    with slack.session() as s:
        assert s.get(ProcessedEvent, "Ev2") is not None


def test_event_retry_after_failure_is_processed(slack: Harness) -> None:
    slack.fake.fail_next("views.publish", "internal_error")
    home_opened(slack, "U0BOB", "Ev3")
    assert slack.fake.home("U0BOB") is None
    with slack.session() as s:
        assert s.get(ProcessedEvent, "Ev3") is None
    home_opened(slack, "U0BOB", "Ev3", retry=1)
    assert slack.fake.home("U0BOB") is not None


@pytest.mark.slow
def test_publish_retried_after_rate_limit(slack: Harness) -> None:
    slack.fake.rate_limit_next("views.publish", count=1, retry_after=0)
    home_opened(slack, "U0BOB", "Ev4")
    assert slack.fake.home("U0BOB") is not None


def test_user_change_refreshes_known_people(slack: Harness) -> None:
    user = {"id": "U0BOB", "name": "bob", "real_name": "Robert", "tz": "Asia/Tokyo",
            "deleted": False, "profile": {"display_name": "Robert"}}
    slack.send(slack.req.event({"type": "user_change", "user": user}, event_id="Ev5"))
    with slack.session() as s:
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        assert (bob.name, bob.tz, bob.active) == ("Robert", "Asia/Tokyo", True)
    slack.send(slack.req.event({"type": "user_change", "user": {**user, "deleted": True}},
                               event_id="Ev6"))
    with slack.session() as s:
        bob = s.scalars(select(Person).where(Person.slack_id == "U0BOB")).one()
        assert bob.active is False and bob.deactivated_at is not None


def test_uninstall_is_audited(slack: Harness) -> None:
    slack.send(slack.req.event({"type": "app_uninstalled"}, event_id="Ev8"))
    slack.send(slack.req.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}},
                               event_id="Ev9"))
    with slack.session() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("slack.%"))))
    assert actions == {"slack.app_uninstalled", "slack.tokens_revoked"}


def test_other_teams_and_grid_events_change_nothing(slack: Harness) -> None:
    """Only the bot token's team is served: another team's events (uninstall included) and
    an organisation-wide install's events are answered 200 and create or record nothing."""
    other = slack.req.__class__(slack.req.verifier.signing_secret, team_id="T0OTHER",
                                response_base=slack.fake.base_url)
    slack.fake.add_user("U0ZED", name="Zed")
    with slack.session() as s:
        before = counts(s)
    for req in (other.event({"type": "app_home_opened", "user": "U0ZED", "tab": "home"}),
                other.event({"type": "app_uninstalled"}),
                other.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}),
                slack.req.grid_event({"type": "app_home_opened", "user": "U0ZED"}),
                slack.req.grid_event({"type": "app_uninstalled"})):
        resp = slack.send(req)
        assert (resp.status, resp.body) == (200, "")
    with slack.session() as s:
        assert counts(s) == before
    assert slack.fake.home("U0ZED") is None


def test_bad_signature_is_refused(slack: Harness) -> None:
    resp = slack.req.command("U0BOB", "mine", bad_signature=True).dispatch(slack.app)
    assert resp.status == 401
    assert slack.fake.calls_to("users.info") == []


def test_stale_timestamp_is_refused(slack: Harness) -> None:
    resp = slack.req.command("U0BOB", "mine", stale=True).dispatch(slack.app)
    assert resp.status == 401


def test_url_verification(slack: Harness) -> None:
    resp = slack.req.url_verification("abc").dispatch(slack.app)
    assert resp.status == 200 and "abc" in resp.body


def test_home_refreshes_coalesce(slack: Harness) -> None:
    from handlers.home import refresh_later

    slack.env.coalesce_delay = 0.2
    bob = slack.org.people["U0BOB"].id
    for _ in range(3):
        refresh_later(slack.env, slack.app.client, slack.org.workspace.id, bob)
    slack.env.drain()
    assert len(slack.fake.calls_to("views.publish")) == 1
    refresh_later(slack.env, slack.app.client, slack.org.workspace.id, bob)
    slack.env.drain()
    assert len(slack.fake.calls_to("views.publish")) == 2
