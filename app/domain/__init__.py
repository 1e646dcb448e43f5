"""The shared vocabulary: enums and small frozen value objects passed between layers.

Pure: imports nothing of ours and touches no I/O. One type per concept; import them from
``app.domain``. The modules hold: ``enums``; ``facts`` (what scoring reads); ``values`` (what
crosses between Slack, services and the scheduler: a check-in answer, a due item, a digest
note); ``views`` (the read model); ``surfaces`` (what the Slack surfaces read).
"""

from __future__ import annotations

from app.domain.enums import (
    CheckinSource,
    Commitment,
    Confidence,
    CyclePhase,
    Grade,
    KRState,
    KRType,
    Light,
    ObjectiveStatusRule,
    ReviewKind,
    RollupMode,
    TeamKind,
    TrafficLight,
    Visibility,
)
from app.domain.facts import (
    CycleWindow,
    IssueFact,
    KRFacts,
    LintWarning,
    ObjectiveFacts,
    PhasedTarget,
    ScoreCard,
)
from app.domain.surfaces import (
    CycleOverview,
    FormChoices,
    HomeFacts,
    KREdit,
    LinkedItem,
    LinkProgress,
    ObjectiveEdit,
    ReplyLine,
    ReplyOutcome,
    Saved,
    TeamOverview,
)
from app.domain.values import (
    CheckinAnswer,
    CheckinEntry,
    Correction,
    DigestNote,
    Due,
    Participation,
    WaitingKR,
)
from app.domain.views import (
    CycleView,
    KRView,
    ObjectiveView,
)

__all__ = [
    "CheckinAnswer",
    "CheckinEntry",
    "CheckinSource",
    "Commitment",
    "Confidence",
    "Correction",
    "CycleOverview",
    "CyclePhase",
    "CycleView",
    "CycleWindow",
    "DigestNote",
    "Due",
    "FormChoices",
    "Grade",
    "HomeFacts",
    "IssueFact",
    "KREdit",
    "KRFacts",
    "KRState",
    "KRType",
    "KRView",
    "Light",
    "LinkProgress",
    "LinkedItem",
    "LintWarning",
    "ObjectiveEdit",
    "ObjectiveFacts",
    "ObjectiveStatusRule",
    "ObjectiveView",
    "Participation",
    "PhasedTarget",
    "ReplyLine",
    "ReplyOutcome",
    "ReviewKind",
    "RollupMode",
    "Saved",
    "ScoreCard",
    "TeamKind",
    "TeamOverview",
    "TrafficLight",
    "Visibility",
    "WaitingKR",
]
