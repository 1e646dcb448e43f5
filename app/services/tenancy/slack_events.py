"""Slack deliveries already handled: Events API retries (and other replays) are skipped.

A key is recorded only after its work succeeded, so a retry after a failure runs again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import ProcessedEvent


def already_processed(*, session: Session, key: str) -> bool:
    return session.scalar(select(ProcessedEvent.key).where(ProcessedEvent.key == key)) is not None


def mark_processed(*, session: Session, key: str, now: datetime) -> bool:
    """Record ``key``; False when another process recorded it first."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(key=key[:200], processed_at=now))
    except IntegrityError:
        return False
    return True


def prune(*, session: Session, before: datetime) -> int:
    """Forget keys older than ``before`` (Slack stops retrying after minutes)."""
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.processed_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
