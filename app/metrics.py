"""The process's Prometheus metrics: what the scheduler, the Slack sender, the webhooks and the
HTTP surface record, and what ``GET /metrics`` (``app.metrics_http``) serves.

This module depends on ``prometheus_client`` alone, so the scheduler and the entry points can
record into it without importing each other (docs/architecture.md). The objects are module
level on purpose: that is how prometheus_client aggregates them, and under gunicorn with
``PROMETHEUS_MULTIPROC_DIR`` set each process writes them to its own files in that directory
(the variable must be in the environment before the process starts). Recording costs a
dictionary update whether ``OKR_METRICS`` is on or not; only serving depends on the setting.

Labels are bounded: delivery kinds and states, Slack methods we call, outcome kinds, webhook
providers, and Flask's route rules (never a raw path).
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is imported and writes there as
# soon as a metric exists: the directory must exist before the first one below.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

DELIVERIES = Counter(
    "okr_deliveries", "Delivery rows entering a state (pending when enqueued, then sent, "
    "skipped, failed, missed or unknown).", ["kind", "state"])
SLACK_CALLS = Counter(
    "okr_slack_api_calls", "Slack Web API calls made by the scheduler, by outcome "
    "(ok, ratelimited, permanent, ambiguous).", ["method", "outcome"])
SLACK_RATE_LIMITED = Counter(
    "okr_slack_rate_limited", "HTTP 429 answers taken from Slack.", ["method"])
TICK_SECONDS = Histogram(
    "okr_tick_duration_seconds", "Wall time of one scheduler pass (enqueue and deliver).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120, 300))
WEBHOOK_EVENTS = Counter(
    "okr_webhook_events", "Tracker webhook deliveries by provider and outcome.",
    ["provider", "outcome"])
HTTP_SECONDS = Histogram(
    "okr_http_request_duration_seconds", "HTTP request latency by route (the URL rule).",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

# Computed from the database at scrape time (app.metrics_http): they stay true when no
# process is ticking, which is when they matter.
PENDING = "okr_deliveries_pending"
LAG = "okr_delivery_lag_seconds"

NAMES = frozenset({
    "okr_deliveries_total", "okr_slack_api_calls_total", "okr_slack_rate_limited_total",
    "okr_tick_duration_seconds", "okr_webhook_events_total",
    "okr_http_request_duration_seconds", PENDING, LAG,
})
"""Every metric family the app exports (dashboards and alert rules may use only these)."""


def delivery(kind: str, state: str, count: int = 1) -> None:
    if count > 0:
        DELIVERIES.labels(kind, state).inc(count)


def slack_call(method: str, outcome: str) -> None:
    SLACK_CALLS.labels(method, outcome).inc()
    if outcome == "ratelimited":
        SLACK_RATE_LIMITED.labels(method).inc()


def webhook(provider: str, outcome: str) -> None:
    WEBHOOK_EVENTS.labels(provider, outcome).inc()
