"""End-of-cycle bookkeeping: review rounds and the history of mid-cycle KR adjustments.

Score entries themselves (computed / self / final) live in ``reviews`` and reflections in
``reflections`` (app.models.core).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, WorkspaceScoped


class ReviewRound(WorkspaceScoped, Base):
    """A cycle's scoring round: opened once, with the date scores are due."""

    __tablename__ = "review_rounds"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "cycle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column()
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Last day (organisation's calendar) on which reminders go out.
    deadline: Mapped[date] = mapped_column(Date)


class KRRevision(WorkspaceScoped, Base):
    """One changed field of a key result (target, weight...) with the old value and why.

    Append-only: the KR row holds the value in force, these rows hold how it got there.
    """

    __tablename__ = "kr_revisions"
    __table_args__ = (Index("ix_kr_revisions_kr_at", "kr_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kr_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column()
    field: Mapped[str] = mapped_column(String(16))  # target | weight
    old_value: Mapped[float | None] = mapped_column(Float)
    new_value: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
