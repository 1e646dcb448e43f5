"""Slack-side bookkeeping: Events API deliveries already handled."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ProcessedEvent(Base):
    """An event_id (or interaction key) whose processing finished; retries of it are skipped.

    Recorded only after the listener succeeds, so a retry after a failure is processed again.
    """

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column()


def _slack_sdk_tables() -> None:
    """slack_sdk's OAuth tables, declared on our metadata so the migration creates them.

    Same layout as slack_sdk's SQLAlchemy stores, except that token columns are TEXT: tokens
    encrypted at rest (app.services.tenancy.installations) are longer than the stock VARCHAR(200).
    """
    store = SQLAlchemyInstallationStore
    tables = [
        store.build_installations_table(Base.metadata, store.default_installations_table_name),
        store.build_bots_table(Base.metadata, store.default_bots_table_name),
    ]
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        Base.metadata, SQLAlchemyOAuthStateStore.default_table_name)
    for table in tables:
        for name in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
            if name in table.c:
                table.c[name].type = Text()


if "slack_installations" not in Base.metadata.tables:
    _slack_sdk_tables()
