"""All tables. Import models from here so every table is registered on ``Base.metadata``."""

from app.models.base import Base, UTCDateTime, WorkspaceScoped
from app.models.core import (
    AuditEntry,
    Checkin,
    Cycle,
    KeyResult,
    Objective,
    Person,
    Reflection,
    Review,
    Team,
    TeamMember,
    Workspace,
)
from app.models.integrations import (
    ApiToken,
    IssueLink,
    KRQuery,
    TrackerConnection,
    WebhookDelivery,
)
from app.models.reviews import KRRevision, ReviewRound
from app.models.scheduling import (
    Delivery,
    DigestSnapshot,
    PromptSkip,
    SchedulerState,
    TimelineRule,
)
from app.models.slack import ProcessedEvent

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Checkin",
    "Cycle",
    "Delivery",
    "DigestSnapshot",
    "IssueLink",
    "KRQuery",
    "KRRevision",
    "KeyResult",
    "Objective",
    "Person",
    "ProcessedEvent",
    "PromptSkip",
    "Reflection",
    "Review",
    "ReviewRound",
    "SchedulerState",
    "Team",
    "TeamMember",
    "TimelineRule",
    "TrackerConnection",
    "UTCDateTime",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceScoped",
]
