"""The scheduler's OAuth clients read the token again: revoked, reinstalled or new
installations are picked up without a restart."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine

from app.config import Settings
from app.db import make_session_factory, unit_of_work
from app.models import Workspace
from app.services.tenancy.installations import installation_store
from scheduler.clients import client_factory


def test_tokens_are_read_again_after_the_cache_time(fresh_engine: Engine) -> None:
    settings = Settings(_env_file=None, SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="s",  # type: ignore[call-arg]
                        OKR_SECRET_KEY="k")
    factory = make_session_factory(fresh_engine)
    with unit_of_work(factory) as s:
        ws = Workspace(name="a", slack_team_id="T0A", created_at=datetime.now(UTC),
                       holiday_dates=[])
        s.add(ws)
        s.flush()
        ws_id = ws.id
    store = installation_store(settings, fresh_engine)
    cached = client_factory(settings, fresh_engine, factory)
    fresh = client_factory(settings, fresh_engine, factory, ttl_seconds=0)
    assert cached(ws_id) is None and fresh(ws_id) is None  # not installed yet

    def install(token: str) -> None:
        store.save(Installation(app_id="A0", enterprise_id=None, team_id="T0A", user_id="U0",
                                bot_token=token, bot_id="B0", bot_user_id="U0BOT"))

    install("xoxb-one")
    one = fresh(ws_id)
    assert one is not None and one.token == "xoxb-one"
    assert cached(ws_id) is None  # within the cache time
    store.delete_all(enterprise_id=None, team_id="T0A")  # tokens_revoked
    assert fresh(ws_id) is None
    install("xoxb-two")  # reinstalled
    two = fresh(ws_id)
    assert two is not None and two.token == "xoxb-two"
