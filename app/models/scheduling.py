"""What the clock has decided to send: one row per (workspace, kind, target, occurrence)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, WorkspaceScoped


class Delivery(WorkspaceScoped, Base):
    """A message the scheduler owes someone.

    The unique key makes enqueueing idempotent across ticks, restarts and replicas; the
    lease (``claimed_until``) lets any process claim a row with ``FOR UPDATE SKIP LOCKED``.
    States: pending -> sending -> sent | failed | missed | skipped | unknown.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "target", "occurrence", name="uq_deliveries_key"),
        Index("ix_deliveries_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # prompt | nudge | digest | reminder | ...
    target: Mapped[str] = mapped_column(String(64))  # person slack id or channel id
    occurrence: Mapped[str] = mapped_column(String(100))  # e.g. local date "2026-03-02"
    due_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class PromptSkip(WorkspaceScoped, Base):
    """A person's "skip this week" or snooze on a prompt occurrence."""

    __tablename__ = "prompt_skips"
    __table_args__ = (UniqueConstraint("workspace_id", "person_id", "week_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column()
