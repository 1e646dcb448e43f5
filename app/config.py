"""Process settings, read from the environment and `.env`.

Nothing is read at import time: entrypoints call ``Settings()`` and pass the object down.
Per-workspace choices (fiscal year, org time zone, timeline preset) live in the database.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.domain.enums import ObjectiveStatusRule

# Settings that were replaced: still set, they stop the process at start and name their
# replacement (so a deployment that turned nudges off does not start nudging after an upgrade).
REMOVED_SETTINGS = {
    "removed_nudge_after_hours": "OKR_NUDGE_AFTER_HOURS was replaced by OKR_NUDGE_AFTER_DAYS "
                                 "(working days, e.g. 1,3): remove it",
    "removed_max_nudges_per_week": "OKR_MAX_NUDGES_PER_WEEK was replaced by "
                                   "OKR_MAX_DMS_PER_WEEK (0 still means no nudges): rename it",
}

class ScoringSettings(BaseSettings):
    """Thresholds for pace, traffic lights, grades and lint. Env prefix ``OKR_SCORING_``."""

    model_config = SettingsConfigDict(env_prefix="OKR_SCORING_", env_file=".env", extra="ignore",
                                      populate_by_name=True)

    # Suggested traffic light: see scoring.pace.suggest_status for the rule.
    yellow_gap: float = Field(0.15, ge=0, le=1)
    red_gap: float = Field(0.30, ge=0, le=1)
    # Declared green while this far behind pace, or red while this far ahead: a mismatch.
    mismatch_gap: float = Field(0.25, ge=0, le=1)
    # Grade bands (final score >= band).
    grade_achieved: float = Field(1.0, ge=0, le=1)
    grade_strong: float = Field(0.7, ge=0, le=1)
    grade_partial: float = Field(0.4, ge=0, le=1)
    # Calibration of a set of final scores.
    calibration_too_easy: float = Field(0.9, ge=0, le=1)
    calibration_unrealistic: float = Field(0.4, ge=0, le=1)
    sweet_spot_low: float = Field(0.6, ge=0, le=1)
    sweet_spot_high: float = Field(0.7, ge=0, le=1)
    # Lint.
    max_cascade_depth: int = Field(4, ge=1)
    min_objectives: int = 1
    max_objectives: int = 5
    min_krs: int = 2
    max_krs: int = 5
    # Pace and lights (issue 10): see scoring.pace for the rule.
    aspirational_target: float = Field(0.7, gt=0, le=1, alias="OKR_ASPIRATIONAL_TARGET")
    milestone_at_risk_days: int = Field(7, ge=0, alias="OKR_MILESTONE_AT_RISK_DAYS")
    objective_status: ObjectiveStatusRule = Field(ObjectiveStatusRule.WEIGHTED,
                                                  alias="OKR_OBJECTIVE_STATUS")


# The check-in modal's inputs per KR (OKR_CHECKIN_FIELDS); value and status are always asked.
CHECKIN_FIELDS = ("value", "status", "note", "confidence", "blockers")
DEFAULT_CHECKIN_FIELDS = ("value", "status", "note")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///okr.db", alias="DATABASE_URL")

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    gitlab_webhook_secret: str | None = Field(None, alias="OKR_GITLAB_WEBHOOK_SECRET")
    github_webhook_secret: str | None = Field(None, alias="OKR_GITHUB_WEBHOOK_SECRET")
    gitlab_token: str | None = Field(None, alias="OKR_GITLAB_TOKEN")
    github_token: str | None = Field(None, alias="OKR_GITHUB_TOKEN")
    # Self-managed GitLab hosts accepted in links, besides gitlab.com.
    gitlab_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["gitlab.com"], alias="OKR_GITLAB_HOSTS"
    )
    gitlab_api_url: str | None = Field(None, alias="OKR_GITLAB_API_URL")
    github_api_url: str = Field("https://api.github.com", alias="OKR_GITHUB_API_URL")
    # Tracker hosts (host or host:port) that may resolve to loopback, link-local or private
    # addresses; every other tracker call to such an address is refused.
    allow_private_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="OKR_ALLOW_PRIVATE_HOSTS"
    )
    # The workspace (Slack team id or name) the tracker variables above configure when the
    # install serves several; with a single workspace it is that one.
    tracker_workspace: str | None = Field(None, alias="OKR_TRACKER_WORKSPACE")

    secret_key: str | None = Field(None, alias="OKR_SECRET_KEY")
    # Secrets and retention: keys still accepted for reading during `okr secrets rotate`
    # (comma-separated), and how long an uninstalled workspace's data is kept.
    secret_key_old: Annotated[list[str], NoDecode] = Field(default_factory=list,
                                                          alias="OKR_SECRET_KEY_OLD")
    retention_days: int = Field(30, ge=0, le=3650, alias="OKR_RETENTION_DAYS")

    @field_validator("secret_key_old", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # Slack user ids allowed to run admin subcommands (also people flagged admin in the DB).
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="OKR_ADMINS")

    # Scheduling.
    tick_seconds: int = Field(45, ge=5, le=300, alias="OKR_TICK_SECONDS")
    grace_hours: float = Field(6.0, ge=0, alias="OKR_GRACE_HOURS")
    skip_if_checked_in_days: int = Field(3, ge=0, alias="OKR_SKIP_IF_CHECKED_IN_DAYS")
    # The follow-up ladder (docs/scheduling.md, "Nudges"): nudges after these many working
    # days without an update, the lead's "waiting on" DM after that many (0: none), and at
    # most that many follow-up DMs per person and week besides the prompts.
    nudge_after_days: Annotated[tuple[int, ...], NoDecode] = Field(
        (1, 3), alias="OKR_NUDGE_AFTER_DAYS")
    escalate_after_days: int = Field(7, ge=0, le=30, alias="OKR_ESCALATE_AFTER_DAYS")
    max_dms_per_week: int = Field(3, ge=0, le=20, alias="OKR_MAX_DMS_PER_WEEK")
    # Replaced by the ones above: set, they stop the process with a settings error naming the
    # replacement, so a deployment that turned nudges off (OKR_MAX_NUDGES_PER_WEEK=0) does not
    # start nudging on upgrade.
    removed_nudge_after_hours: object = Field(None, alias="OKR_NUDGE_AFTER_HOURS")
    removed_max_nudges_per_week: object = Field(None, alias="OKR_MAX_NUDGES_PER_WEEK")
    lease_seconds: int = Field(120, ge=5, alias="OKR_LEASE_SECONDS")
    # Digests when nothing changed since the last one: "note" (one line) or "silent".
    quiet_digest: str = Field("note", alias="OKR_QUIET_DIGEST")
    # Sending pace, a little under Slack's limits (per second).
    send_rate_per_second: float = Field(0.9, gt=0, alias="OKR_SEND_RATE")
    workspace_send_rate_per_second: float = Field(5.0, gt=0, alias="OKR_WORKSPACE_SEND_RATE")

    # HTTP serving.
    host: str = Field("0.0.0.0", alias="OKR_HOST")
    port: int = Field(3000, alias="OKR_PORT")
    web_workers: int = Field(1, ge=1, alias="OKR_WEB_WORKERS")
    web_threads: int = Field(8, ge=1, alias="OKR_WEB_THREADS")
    listener_threads: int = Field(32, ge=1, alias="OKR_LISTENER_THREADS")

    log_level: str = Field("INFO", alias="OKR_LOG_LEVEL")
    # "text" (one readable line) or "json" (one JSON object per line, for log collectors).
    log_format: str = Field("text", alias="OKR_LOG_FORMAT")

    # Prometheus metrics: "off", or "on" (GET /metrics on the app's port); with the token set
    # a scrape needs "Authorization: Bearer <token>".
    metrics: str = Field("off", alias="OKR_METRICS")
    metrics_token: str | None = Field(None, alias="OKR_METRICS_TOKEN")

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("on", "off"):
            return value.strip().lower()
        raise ValueError("OKR_METRICS must be 'on' or 'off'")

    scoring: ScoringSettings = Field(default_factory=ScoringSettings)

    # Check-ins: the modal's inputs per KR, comma-separated (see CHECKIN_FIELDS).
    checkin_fields: Annotated[tuple[str, ...], NoDecode] = Field(
        DEFAULT_CHECKIN_FIELDS, alias="OKR_CHECKIN_FIELDS")

    @field_validator("admins", "gitlab_hosts", "allow_private_hosts", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("quiet_digest")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value not in ("note", "silent"):
            raise ValueError("OKR_QUIET_DIGEST must be 'note' or 'silent'")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.strip().lower() not in ("text", "json"):
            raise ValueError("OKR_LOG_FORMAT must be 'text' or 'json'")
        return value.strip().lower()

    @field_validator("nudge_after_days", mode="before")
    @classmethod
    def _nudge_days(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ValueError("OKR_NUDGE_AFTER_DAYS: working days, comma-separated, e.g. 1,3")
            value = tuple(int(p) for p in parts)
        if isinstance(value, (list, tuple)):
            days = tuple(int(d) for d in value)
            if any(d < 1 or d > 30 for d in days) or list(days) != sorted(set(days)):
                raise ValueError("OKR_NUDGE_AFTER_DAYS: increasing working days from 1 to 30, "
                                 "e.g. 1,3 (empty: no nudges)")
            return days
        return value

    @field_validator("removed_nudge_after_hours", "removed_max_nudges_per_week")
    @classmethod
    def _removed(cls, value: object, info: ValidationInfo) -> object:
        if value is not None:
            raise ValueError(REMOVED_SETTINGS[str(info.field_name)])
        return value


    @field_validator("checkin_fields", mode="before")
    @classmethod
    def _checkin_fields(cls, value: object) -> object:
        names = [p.strip().lower() for p in value.split(",")] if isinstance(value, str) \
            else list(value) if isinstance(value, (list, tuple)) else value
        if not isinstance(names, list):
            return value
        names = [str(n) for n in names if n]
        unknown = [n for n in names if n not in CHECKIN_FIELDS]
        if unknown:
            raise ValueError(f"OKR_CHECKIN_FIELDS: unknown field(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(CHECKIN_FIELDS)}")
        missing = [n for n in ("value", "status") if n not in names]
        if missing:
            raise ValueError(f"OKR_CHECKIN_FIELDS must include {' and '.join(missing)} "
                             f"(every check-in asks for them)")
        # Modal order is fixed whatever the order written; duplicates collapse.
        return tuple(n for n in CHECKIN_FIELDS if n in names)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
