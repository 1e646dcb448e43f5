"""Enums of the vocabulary: KR types, lights, states, phases, modes, kinds."""

from __future__ import annotations

from enum import StrEnum


class KRType(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    ABOVE = "above"
    BELOW = "below"
    PERCENT = "percent"
    MILESTONE = "milestone"
    MANUAL = "manual"
    ISSUES = "issues"
    CHILDREN = "children"

    @property
    def takes_value(self) -> bool:
        """True when a check-in for this type carries a measured value."""
        return self in (
            KRType.INCREASE,
            KRType.DECREASE,
            KRType.ABOVE,
            KRType.BELOW,
            KRType.PERCENT,
            KRType.MILESTONE,
        )

    @property
    def needs_start_and_target(self) -> bool:
        return self in (KRType.INCREASE, KRType.DECREASE)

    @property
    def needs_threshold(self) -> bool:
        return self in (KRType.ABOVE, KRType.BELOW)


class TrafficLight(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """Higher is worse: used to take the worst status of a set."""
        return {"green": 0, "yellow": 1, "red": 2}[self.value]

    @property
    def emoji(self) -> str:
        return {"green": ":large_green_circle:", "yellow": ":large_yellow_circle:",
                "red": ":red_circle:"}[self.value]


class Light(StrEnum):
    """What a light shows people: a traffic light, ``outdated`` (no update for two of the
    owner's cadences), ``pending`` (never checked in), or a grade band once the cycle ended."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    OUTDATED = "outdated"
    PENDING = "pending"
    ACHIEVED = "achieved"
    STRONG = "strong"
    PARTIAL = "partial"
    MISS = "miss"

    @property
    def emoji(self) -> str:
        return _LIGHT_EMOJI[self.value]

    @property
    def label(self) -> str:
        """In words: ``on track``, ``at risk``, ``off track``, ``no update``, ``no check-in
        yet``, or the grade (``strong``)."""
        return _LIGHT_LABEL.get(self.value, self.value)

    @property
    def is_grade(self) -> bool:
        return self.value in ("achieved", "strong", "partial", "miss")


_LIGHT_EMOJI = {"green": ":large_green_circle:", "yellow": ":large_yellow_circle:",
                "red": ":red_circle:", "outdated": ":white_circle:",
                "pending": ":hourglass_flowing_sand:", "achieved": ":trophy:",
                "strong": ":large_green_circle:", "partial": ":large_yellow_circle:",
                "miss": ":red_circle:"}
_LIGHT_LABEL = {"green": "on track", "yellow": "at risk", "red": "off track",
                "outdated": "no update", "pending": "no check-in yet"}


class KRState(StrEnum):
    """Lifecycle of a key result, orthogonal to its traffic light."""

    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"


class CyclePhase(StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    REVIEW = "review"
    CLOSED = "closed"


class RollupMode(StrEnum):
    KRS = "krs"
    CHILDREN = "children"
    BOTH = "both"


class TeamKind(StrEnum):
    COMPANY = "company"
    DEPARTMENT = "department"
    TEAM = "team"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Commitment(StrEnum):
    COMMITTED = "committed"
    ASPIRATIONAL = "aspirational"


class CheckinSource(StrEnum):
    SLACK = "slack"
    CLI = "cli"
    API = "api"
    IMPORT = "import"
    ISSUES = "issues"
    DEMO = "demo"
    REVIEW = "review"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Grade(StrEnum):
    ACHIEVED = "achieved"
    STRONG = "strong"
    PARTIAL = "partial"
    MISS = "miss"

    @property
    def light(self) -> TrafficLight:
        """The traffic light a grade reads as: achieved and strong green, partial yellow,
        miss red (for filters such as ``/okr list at-risk`` after the end)."""
        return {"achieved": TrafficLight.GREEN, "strong": TrafficLight.GREEN,
                "partial": TrafficLight.YELLOW, "miss": TrafficLight.RED}[self.value]


class ObjectiveStatusRule(StrEnum):
    """How an objective's light is set (``OKR_OBJECTIVE_STATUS``)."""

    WEIGHTED = "weighted"
    WORST = "worst"


class ReviewKind(StrEnum):
    """Kinds of end-of-cycle score entries; every entry is kept as history."""

    COMPUTED = "computed"
    SELF = "self"
    FINAL = "final"
