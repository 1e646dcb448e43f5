"""The OKR model: workspaces, people, teams, cycles, objectives, key results and their history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, JSONType, WorkspaceScoped


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Slack team id; NULL for a workspace that only lives in the CLI (the default one).
    slack_team_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    fiscal_year_start_month: Mapped[int] = mapped_column(Integer, default=1)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    timeline_preset: Mapped[str] = mapped_column(String(32), default="none")
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_dates: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Org-level schedules (dicts validated by the scheduler); None means the built-in default.
    checkin_schedule: Mapped[dict[str, Any] | None] = mapped_column()
    digest_schedule: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    # Set when the app is uninstalled: nothing is sent, API tokens are refused, and the data
    # is deleted at purge_after (OKR_RETENTION_DAYS later) unless the app is reinstalled.
    disabled_at: Mapped[datetime | None] = mapped_column()
    purge_after: Mapped[datetime | None] = mapped_column()
    # When the daily directory sync (users.list) last ran; claimed with a conditional UPDATE
    # so one process syncs a workspace once a day.
    directory_synced_at: Mapped[datetime | None] = mapped_column()
    # The organisation's working week (see app.calendar.workweek): day names, e.g.
    # ["mon", ..., "fri"] (None: Monday to Friday), and working hours "08:00-19:00" (None: the
    # default). Teams and people override them.
    work_days: Mapped[list[str] | None] = mapped_column(JSONType)
    work_hours: Mapped[str | None] = mapped_column(String(11))


class Person(WorkspaceScoped, Base):
    __tablename__ = "people"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "slack_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    # "slack": tz follows Slack; "person": the person chose it and no sync changes it.
    tz_source: Mapped[str] = mapped_column(String(8), default="slack", server_default="slack")
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    # Slack's ``deleted`` as last seen: only a deactivation that came from Slack is undone
    # when Slack reactivates the account (an operator's deactivation stays).
    deactivated_in_slack: Mapped[bool] = mapped_column(Boolean, default=False,
                                                        server_default=false())
    away_until: Mapped[date | None] = mapped_column(Date)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Person-level check-in cadence override (see scheduler.cadence); None inherits the team's.
    checkin_schedule: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    # The first day of an announced absence (None: away starts at once); see away_until.
    away_from: Mapped[date | None] = mapped_column(Date)
    # Own working week and holiday calendar ("DE-BY", "US"); None inherits the team's, then
    # the organisation's.
    work_days: Mapped[list[str] | None] = mapped_column(JSONType)
    work_hours: Mapped[str | None] = mapped_column(String(11))
    holiday_calendar: Mapped[str | None] = mapped_column(String(16))
    # False: no follow-up nudges (the check-in prompt itself still comes).
    nudges: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Team(WorkspaceScoped, Base):
    __tablename__ = "teams"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="team")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    checkin_schedule: Mapped[dict[str, Any] | None] = mapped_column()
    digest_schedule: Mapped[dict[str, Any] | None] = mapped_column()
    # Where membership follows Slack: {"channel": "C..."} or {"usergroup": "S..."}; None when
    # members are kept by hand.
    members_from: Mapped[dict[str, Any] | None] = mapped_column()
    # The team's working week and holiday calendar, for members without their own.
    work_days: Mapped[list[str] | None] = mapped_column(JSONType)
    work_hours: Mapped[str | None] = mapped_column(String(11))
    holiday_calendar: Mapped[str | None] = mapped_column(String(16))
    # Whether the digest's participation line names who has not checked in.
    digest_names: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="selectin"
    )


class TeamMember(WorkspaceScoped, Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    team: Mapped[Team] = relationship(back_populates="members")


class Cycle(WorkspaceScoped, Base):
    __tablename__ = "cycles"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    phase: Mapped[str] = mapped_column(String(16), default="planning")


class Objective(WorkspaceScoped, Base):
    __tablename__ = "objectives"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    aligned_objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="SET NULL"), index=True
    )
    aligned_kr_id: Mapped[int | None] = mapped_column(
        ForeignKey("key_results.id", ondelete="SET NULL", use_alter=True), index=True
    )
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    commitment: Mapped[str] = mapped_column(String(16), default="committed")
    is_development: Mapped[bool] = mapped_column(Boolean, default=False)
    rollup_mode: Mapped[str] = mapped_column(String(16), default="krs")
    # A draft (e.g. carried into the next cycle) waits for its owner to confirm it.
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False)
    carried_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    key_results: Mapped[list[KeyResult]] = relationship(
        back_populates="objective",
        cascade="all, delete-orphan",
        order_by="KeyResult.position",
        foreign_keys="KeyResult.objective_id",
    )


class KeyResult(WorkspaceScoped, Base):
    __tablename__ = "key_results"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    kr_type: Mapped[str] = mapped_column(String(16), default="increase")
    start_value: Mapped[float | None] = mapped_column(Float)
    target_value: Mapped[float | None] = mapped_column(Float)
    # A projection of the latest check-in, kept for fast reads; history is in checkins.
    current_value: Mapped[float | None] = mapped_column(Float)
    manual_score: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # Milestones: the date the milestone is due (None: the cycle's end).
    due_date: Mapped[date | None] = mapped_column(Date)
    # Phased targets: [{"on": "2026-03-01", "value": 200}, ...] in date order (None: linear).
    targets: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    declared_status: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), default="active")
    last_checkin_at: Mapped[datetime | None] = mapped_column()
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()

    objective: Mapped[Objective] = relationship(
        back_populates="key_results", foreign_keys=[objective_id]
    )


class Checkin(WorkspaceScoped, Base):
    """Append-only: a correction is a new row, never an update."""

    __tablename__ = "checkins"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        Index("ix_checkins_kr_at", "kr_id", "at"),
        UniqueConstraint("workspace_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kr_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column()
    value: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(8))
    confidence: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    blockers: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="cli")
    # Set by callers that may repeat a request (double submit, API retries): one row per key.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # A correction names the entry it supersedes (Edit); an undo also carries undone=True and
    # restores what was in force before that entry. The superseded row stays in history.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkins.id", ondelete="SET NULL"), index=True
    )
    undone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Review(WorkspaceScoped, Base):
    """End-of-cycle score entries (computed / self / final), append-only like check-ins."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_kr_kind", "kr_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kr_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    evidence: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()


class Reflection(WorkspaceScoped, Base):
    __tablename__ = "reflections"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE")
    )
    worked: Mapped[str | None] = mapped_column(Text)
    did_not_work: Mapped[str | None] = mapped_column(Text)
    carry_forward: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()


class AuditEntry(WorkspaceScoped, Base):
    __tablename__ = "audit_log"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (Index("ix_audit_subject", "workspace_id", "subject_type", "subject_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # "cli", "import", "api", "slack:U123", "scheduler", ...
    actor_label: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column()
    after: Mapped[dict[str, Any] | None] = mapped_column()
