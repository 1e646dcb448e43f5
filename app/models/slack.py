"""Slack-side bookkeeping: Events API deliveries already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class ProcessedEvent(Base):
    """An event_id (or interaction key) whose processing finished; retries of it are skipped.

    Recorded only after the listener succeeds, so a retry after a failure is processed again.
    """

    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column()
