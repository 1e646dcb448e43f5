"""The shape of an import file, as pydantic models.

These models check shapes and single values only (unknown keys, types, ranges, formats).
Rules that span fields or entries (a KR's target against its start, references between
entries and to the database, duplicate ids) live in ``app.services.import_checks``, which
reports them with the same ``path: reason`` wording.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.services.data.imports.workweek_fields import HolidayCalendar, WorkDays, WorkHours
from app.services.tenancy.people import valid_tz

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _number_to_text(value: Any) -> Any:
    # YAML reads `id: 2024` as an int; an id is text whatever it looks like.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Key = Annotated[
    str,
    BeforeValidator(_number_to_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"),
]
# An objective id, or objective-id/kr-id.
AlignRef = Annotated[
    str,
    BeforeValidator(_number_to_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=201,
                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)?$"),
]
SlackUser = Annotated[str, StringConstraints(strip_whitespace=True,
                                             pattern=r"^[UW][A-Z0-9]{2,31}$")]
SlackChannel = Annotated[str, StringConstraints(strip_whitespace=True,
                                                pattern=r"^[CGD][A-Z0-9]{2,31}$")]
SlackGroup = Annotated[str, StringConstraints(strip_whitespace=True,
                                              pattern=r"^S[A-Z0-9]{2,31}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Number = Annotated[float, Field(allow_inf_nan=False)]
SlackTeam = Annotated[str, StringConstraints(strip_whitespace=True,
                                             pattern=r"^T[A-Z0-9]{2,31}$")]


def _tz(value: str) -> str:
    if not valid_tz(value):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)")
    return value


TimeZone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1),
                     AfterValidator(_tz)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Schedule(Strict):
    """A recurring local time: ``{cadence, day, time}`` plus ``nth`` / ``day_of_month`` for
    monthly cadences. Stored as given; the scheduler interprets it in each person's tz."""

    cadence: Literal["weekly", "biweekly", "every_3_weeks", "every_4_weeks", "monthly"] = "weekly"
    # One day ("mon") or several (["mon", "thu"]).
    day: str | list[str] | None = None
    time: str = "10:00"
    nth: Literal[1, 2, 3, 4, 5, -1] | None = None
    day_of_month: Annotated[int, Field(ge=1, le=31)] | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            # YAML 1.1 reads an unquoted 10:00 as the number 600.
            raise ValueError('must be "HH:MM" in quotes (unquoted, YAML reads 10:00 as a number)')
        if not isinstance(value, str) or not TIME_RE.match(value.strip()):
            raise ValueError('must be "HH:MM" (24-hour, e.g. "09:30")')
        return value.strip()

    @field_validator("day", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        # Checked here rather than by a union type so the error names the problem plainly.
        if value is None:
            return None
        days = value if isinstance(value, list) else [value]
        if not days:
            raise ValueError("list at least one day")
        for day in days:
            if not isinstance(day, str) or day.strip().lower() not in DAYS:
                raise ValueError(f"{day!r} is not a day (use {', '.join(DAYS)})")
        norm = [d.strip().lower() for d in days]
        if len(set(norm)) != len(norm):
            raise ValueError("a day is listed twice")
        return norm if isinstance(value, list) else norm[0]

    @model_validator(mode="after")
    def _monthly(self) -> Schedule:
        if self.cadence != "monthly" and (self.nth is not None or self.day_of_month is not None):
            raise ValueError("nth and day_of_month only apply to a monthly cadence")
        if self.nth is not None and self.day_of_month is not None:
            raise ValueError("give nth (with day) or day_of_month, not both")
        if self.nth is not None and (self.day is None or isinstance(self.day, list)):
            raise ValueError("nth needs one day, e.g. {nth: 1, day: mon}")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class SettingsIn(Strict):
    name: Name | None = None
    # The Slack team (T...) this workspace belongs to: only that team is served its data.
    slack_team: SlackTeam | None = None
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] | None = None
    timezone: TimeZone | None = None
    timeline: Literal["gitlab-product", "okr-cycle", "none"] | None = None
    holidays: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                               max_length=8)] | None = None
    holiday_dates: list[date] | None = None
    checkin: Schedule | None = None
    digest: Schedule | None = None
    work_days: WorkDays | None = None
    work_hours: WorkHours | None = None


class CycleIn(Strict):
    name: Annotated[str, BeforeValidator(_number_to_text),
                    StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    start: date
    end: date
    phase: Literal["planning", "active", "review", "closed"] | None = None


class PersonIn(Strict):
    slack_id: SlackUser
    name: Name | None = None
    tz: TimeZone | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    admin: bool | None = None
    active: bool | None = None
    away_until: date | None = None
    away_from: date | None = None
    checkin: Schedule | None = None
    work_days: WorkDays | None = None
    work_hours: WorkHours | None = None
    holidays: HolidayCalendar | None = None


class TeamDigest(Schedule):
    """A team's digest: its schedule, and whether its participation line names people."""

    names: bool | None = None

    def schedule_given(self) -> bool:
        return bool(self.model_fields_set - {"names"})

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"names"})


class MembersFromIn(Strict):
    """Where a team's members come from in Slack: one channel or one user group."""

    channel: SlackChannel | None = None
    usergroup: SlackGroup | None = None

    @model_validator(mode="after")
    def _one(self) -> MembersFromIn:
        if (self.channel is None) == (self.usergroup is None):
            raise ValueError("give either channel (C...) or usergroup (S...)")
        return self

    def stored(self) -> dict[str, str]:
        return {"channel": self.channel} if self.channel else {"usergroup": str(self.usergroup)}


class TeamIn(Strict):
    id: Key
    name: Name | None = None
    kind: Literal["company", "department", "team"] | None = None
    parent: Key | None = None
    lead: SlackUser | None = None
    members: list[SlackUser] | None = None
    # "add" (the default): listed people join, others stay; "replace": exactly these people.
    members_mode: Literal["add", "replace"] | None = None
    members_from: MembersFromIn | None = None
    channel: SlackChannel | None = None
    checkin: Schedule | None = None
    digest: TeamDigest | None = None
    work_days: WorkDays | None = None
    work_hours: WorkHours | None = None
    holidays: HolidayCalendar | None = None

    @model_validator(mode="after")
    def _replace_needs_members(self) -> TeamIn:
        if self.members_mode == "replace" and self.members is None:
            raise ValueError("members_mode: replace needs a members list (an empty list "
                             "empties the team)")
        return self


class LinkIn(Strict):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    weight: Annotated[Number, Field(gt=0)] = 1.0


class TargetIn(Strict):
    """A phased target: ``value`` (in the KR's unit) expected on ``on``."""

    on: date
    value: Number


def _target(value: Any) -> Any:
    # YAML 1.1 reads a bare ``on`` key as the boolean true: take it as the key it spells.
    if isinstance(value, dict) and True in value and "on" not in value:
        return {("on" if k is True else k): v for k, v in value.items()}
    return value


def _link(value: Any) -> Any:
    return {"url": value} if isinstance(value, str) else value


class KeyResultIn(Strict):
    id: Key
    title: Title
    owner: SlackUser | None = None
    type: Literal["increase", "decrease", "above", "below", "percent", "milestone", "manual",
                  "issues", "children"] | None = None
    start: Number | None = None
    target: Number | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    weight: Annotated[Number, Field(gt=0)] = 1.0
    state: Literal["active", "paused", "done"] | None = None
    current: Number | None = None
    score: Annotated[Number, Field(ge=0, le=1)] | None = None
    status: Literal["green", "yellow", "red"] | None = None
    links: list[Annotated[LinkIn, BeforeValidator(_link)]] | None = None
    # A saved search (app.services.links.query_specs): checked by kr_rules.query_rules.
    query: dict[str, Any] | None = None
    due: date | None = None
    targets: Annotated[list[Annotated[TargetIn, BeforeValidator(_target)]],
                       Field(max_length=24)] | None = None

    @field_validator("current", mode="before")
    @classmethod
    def _bool_current(cls, value: Any) -> Any:
        # A milestone may say `current: true` (done) or `false`.
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        return value

    def resolved_type(self) -> str:
        """The KR type: as given, else increase/decrease from start and target, else issues
        when links or a query are given, else milestone."""
        if self.type is not None:
            return self.type
        if self.start is not None and self.target is not None:
            return "decrease" if self.target < self.start else "increase"
        if self.links or self.query:
            return "issues"
        return "milestone"


class ObjectiveIn(Strict):
    id: Key
    title: Title
    cycle: Annotated[str, BeforeValidator(_number_to_text),
                     StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    team: Key | None = None
    owner: SlackUser | None = None
    description: Annotated[str, StringConstraints(max_length=10000)] | None = None
    aligned_to: AlignRef | None = None
    visibility: Literal["public", "private"] | None = None
    commitment: Literal["committed", "aspirational"] | None = None
    development: bool | None = None
    rollup: Literal["krs", "children", "both"] | None = None
    draft: bool | None = None
    key_results: list[KeyResultIn] = Field(default_factory=list)


SECTIONS: dict[str, type[Strict]] = {
    "cycles": CycleIn,
    "people": PersonIn,
    "teams": TeamIn,
    "objectives": ObjectiveIn,
}
TOP_LEVEL = ("settings", *SECTIONS)
