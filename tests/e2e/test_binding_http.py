"""``okr serve`` with a bot token serves that token's team only: another team's signed
requests and Enterprise Grid organisation events get a clear reply or an empty 200, and
create no workspace and no person."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from app.db import normalise_url
from tests.fixtures.served import Served
from tests.slackreq import SlackRequests


def rows(served: Served) -> tuple[list[tuple[str | None, ...]], list[str]]:
    engine = create_engine(normalise_url(served.database_url))
    try:
        with engine.connect() as conn:
            teams = [tuple(r) for r in conn.execute(text(
                "SELECT slack_team_id FROM workspaces ORDER BY id"))]
            people = list(conn.execute(text("SELECT slack_id FROM people ORDER BY slack_id"))
                          .scalars())
    finally:
        engine.dispose()
    return teams, people


def test_other_team_and_grid_org_create_nothing(served: Served) -> None:
    before = rows(served)
    stranger = SlackRequests(served.req.verifier.signing_secret, team_id="T0STRANGER",
                             response_base=served.fake.base_url)
    resp = stranger.command("U0ZED", "mine").post(served.events_url)
    assert resp.status_code == 200
    assert resp.json() == {"response_type": "ephemeral",
                           "text": "This app is not set up for this workspace. Ask the person "
                                   "who runs it to install it here."}
    event = stranger.event({"type": "app_home_opened", "user": "U0ZED", "tab": "home"})
    unhandled = stranger.event({"type": "reaction_added", "user": "U0ZED"})
    grid = stranger.grid_event({"type": "app_home_opened", "user": "U0ZED", "tab": "home"})
    for req in (event, unhandled, grid):
        answer = req.post(served.events_url)
        assert (answer.status_code, answer.text) == (200, "")
    assert rows(served) == before
    assert before == ([("T0TEST",)], ["U0ADA", "U0BOB", "U0CY", "U0DEE"])
