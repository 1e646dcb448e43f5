"""What the clock has decided to send: one row per (workspace, kind, target, occurrence)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, WorkspaceScoped


class Delivery(WorkspaceScoped, Base):
    """A message the scheduler owes someone.

    The unique key makes enqueueing idempotent across ticks, restarts and replicas; the
    lease (``claimed_until``) lets any process claim a row with ``FOR UPDATE SKIP LOCKED``.
    States: pending -> sending -> sent | failed | missed | skipped | unknown
    (see docs/scheduling.md for the meaning of each and the ambiguous-send policy).
    """

    __tablename__ = "deliveries"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "target", "occurrence", name="uq_deliveries_key"),
        Index("ix_deliveries_due", "state", "due_at"),
        Index("ix_deliveries_person", "workspace_id", "person_id", "kind", "due_at"),
        Index("ix_deliveries_ws_due", "workspace_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # prompt | nudge | digest | reminder
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
    # Who and what it is about, for the skip rules, nudges and `/okr next`.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    # The recipient's IANA zone when it was enqueued (shows local times in transcripts).
    tz: Mapped[str | None] = mapped_column(String(64))
    # Sent as message metadata before the call, so a send whose answer was lost can be
    # found in the conversation afterwards (reconciliation).
    token: Mapped[str | None] = mapped_column(String(40))


class PromptSkip(WorkspaceScoped, Base):
    """A person's "skip this week" on a prompt: no prompt, snooze or nudge that week."""

    __tablename__ = "prompt_skips"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "person_id", "week_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    week_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column()


class DigestSnapshot(WorkspaceScoped, Base):
    """Scores and statuses of a team's OKRs as one digest showed them.

    The next digest compares against the latest snapshot to say what changed.
    """

    __tablename__ = "digest_snapshots"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("delivery_id"),
        Index("ix_digest_snapshots_team", "workspace_id", "team_id", "taken_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column()
    # {"objectives": {key: {"score", "status"}}, "krs": {key: {"score", "status"}}}
    data: Mapped[dict[str, Any]] = mapped_column()


class TimelineRule(WorkspaceScoped, Base):
    """A custom planning-timeline reminder, posted once per cycle (besides the preset's)."""

    __tablename__ = "timeline_rules"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[str] = mapped_column(String(8))  # start | middle | end
    offset_days: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(5), default="10:00")
    audience: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str | None] = mapped_column(String(32))
    usergroup: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column()


class SchedulerState(Base):
    """Per workspace: the latest instant a tick covered.

    The next tick looks back to it (within limits), so what fell due while every process was
    down is found and either sent late (within the grace window) or recorded as missed.
    """

    __tablename__ = "scheduler_state"

    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_tick_at: Mapped[datetime] = mapped_column()



class WorkLease(Base):
    """Per workspace: which scheduler process computes its due items and sends for it now.

    An efficiency and rate mechanism, not the correctness one (that is the deliveries' unique
    key and row claims): the holder renews it every pass; once ``lease_until`` has passed (a
    released lease is one that has passed) any process may take it. See scheduler/leases.py.
    """

    __tablename__ = "scheduler_leases"

    workspace_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    lease_owner: Mapped[str | None] = mapped_column(String(100), index=True)
    lease_until: Mapped[datetime | None] = mapped_column()


class SchedulerWorker(Base):
    """A live scheduler process (its heartbeat): the number of live ones sets each one's fair
    share of the workspaces' leases."""

    __tablename__ = "scheduler_workers"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)
