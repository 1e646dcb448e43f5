"""Links to issue trackers, the saved searches that keep some of them, each workspace's
tracker connections, their webhook deliveries, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, WorkspaceScoped


class IssueLink(WorkspaceScoped, Base):
    """An issue, merge request or pull request counted by an ``issues`` KR.

    ``state`` is the tracker's word (open, closed, merged); ``closed`` is what scoring counts
    (see app.services.links.counts_as_closed). ``source_updated_at`` is the tracker's own
    update time of the last state we applied: older events arriving late are ignored.

    ``query_id`` is set on links a saved search (:class:`KRQuery`) brought in; NULL on links
    people made. ``left_at`` is when such an item stopped matching its search: it is kept as
    a trace but no longer counts (nor does it when the search is cleared).
    """

    __tablename__ = "issue_links"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("workspace_id", "kr_id", "url"),
        # Webhooks and reconciliation find links by the tracker's coordinates.
        Index("ix_issue_links_ref", "provider", "host", "project", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kr_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    provider: Mapped[str] = mapped_column(String(16))  # gitlab | github | jira | linear
    host: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(300))  # group/sub/project or owner/repo
    kind: Mapped[str] = mapped_column(String(16))  # issue | merge_request | pull_request
    number: Mapped[int] = mapped_column()
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # open | closed | merged | unknown (not fetched yet)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    title: Mapped[str | None] = mapped_column(String(300))
    source_updated_at: Mapped[datetime | None] = mapped_column()
    state_updated_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    query_id: Mapped[int | None] = mapped_column(
        ForeignKey("kr_queries.id", ondelete="SET NULL"), index=True)
    left_at: Mapped[datetime | None] = mapped_column()


class KRQuery(WorkspaceScoped, Base):
    """A saved search an ``issues`` KR follows: its items are the KR's links.

    ``spec`` is the search as the import file spells it (``{provider: gitlab, project:
    acme/web, labels: [okr-q1]}``); ``provider``, ``host`` and ``project`` are copied out of
    it (lowercased) so a webhook finds the searches its item may enter or leave.
    ``refreshed_at`` / ``last_error`` say how the last run over the tracker's API went.
    """

    __tablename__ = "kr_queries"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (
        UniqueConstraint("workspace_id", "kr_id"),
        Index("ix_kr_queries_where", "workspace_id", "provider", "host", "project"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kr_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"),
                                       index=True)
    provider: Mapped[str] = mapped_column(String(16))  # gitlab | github | jira | linear
    host: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(300))  # "" when the search names none (jql)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    refreshed_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(String(500))


class TrackerConnection(WorkspaceScoped, Base):
    """One workspace's access to one tracker host: the API token its links are fetched with
    and the secret its webhooks are verified with (both encrypted; key rotation covers them
    through app.services.tenancy.rotation.STORED_SECRETS).

    ``hook_key`` is the random path segment of its webhook URL,
    ``/webhooks/<provider>/<hook_key>``: it names the connection, so the workspace and the
    secret to check, without revealing either.
    """

    __tablename__ = "tracker_connections"
    workspace_indexed = True  # see WorkspaceScoped
    __table_args__ = (UniqueConstraint("workspace_id", "provider", "host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))  # gitlab | github | jira | linear
    host: Mapped[str] = mapped_column(String(200))  # as links name it: gitlab.example.com[:port]
    api_url: Mapped[str | None] = mapped_column(String(500))  # None: the provider's default
    # Who the token belongs to, when the tracker authenticates a token with it (Jira Cloud:
    # the Atlassian account's email, for Basic email:token).
    account: Mapped[str | None] = mapped_column(String(200))
    token: Mapped[str | None] = mapped_column(String(2000))
    token_hint: Mapped[str | None] = mapped_column(String(16))  # the last 4 characters
    webhook_secret: Mapped[str] = mapped_column(String(2000))
    hook_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    # Linear: whether an issue in a "canceled" state counts as done (else as not done).
    canceled_counts_as_done: Mapped[bool] = mapped_column(Boolean, default=False,
                                                          server_default=false())


class WebhookDelivery(Base):
    """Delivery ids already applied, so a redelivered webhook changes nothing."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("provider", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(WorkspaceScoped, Base):
    """A progress-API token: only a sha256 hash of the secret is kept, plus a short prefix
    so people can tell their tokens apart in listings.

    ``scopes`` is space-separated (``read checkin read:private``); NULL on tokens made before
    scopes existed, which act as ``read checkin``. ``expires_at`` NULL never expires.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    scopes: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column()
