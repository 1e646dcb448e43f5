"""``GET /metrics``: the Prometheus text format, when ``OKR_METRICS=on``.

``install(web, container)`` adds the route and the request-latency hooks to the Flask app of
``okr serve``; ``serve_alone`` answers ``/metrics`` and ``/healthz`` on the app's port for the
processes with no HTTP surface of their own (``okr worker``, ``okr serve --socket-mode``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process (each gunicorn worker, a tick) writes its
metrics to files in that directory and a scrape adds them up (``MultiProcessCollector``);
otherwise the scrape reads this process's own registry. The delivery backlog (pending rows and
the delivery lag) is read from the database at scrape time, so it stays true while no process
ticks. With ``OKR_METRICS_TOKEN`` set a scrape needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import click
from flask import Flask, Response, g, jsonify, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.bootstrap import Container, utcnow
from app.db import ping, unit_of_work
from app.services.scheduling.backlog import backlog

log = logging.getLogger(__name__)

KINDS = ("prompt", "nudge", "digest", "reminder")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC)
    return Path(value) if value else None


def clear_multiprocess_dir() -> None:
    """Start a run with an empty directory (prometheus_client's rule for gunicorn): files of
    an earlier run would otherwise be added to this one's."""
    path = multiprocess_dir()
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    for old in path.glob("*.db"):
        old.unlink(missing_ok=True)


def process_exited(pid: int) -> None:
    """gunicorn's ``child_exit``: a worker's live gauges go with it (counters stay)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class BacklogCollector(Collector):
    """``okr_deliveries_pending{kind}`` and ``okr_delivery_lag_seconds``, from the database."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        try:
            with unit_of_work(self.container.session_factory) as session:
                owed = backlog(session=session, now=now)
        except SQLAlchemyError:
            # The scrape still answers with the process's own metrics; these two are absent,
            # which an alert on absent() can tell from a lag of zero.
            log.warning("metrics.backlog_unavailable")
            return
        pending = GaugeMetricFamily(metrics.PENDING, "Delivery rows waiting to be sent.",
                                    labels=["kind"])
        for kind in sorted(set(KINDS) | set(owed.pending)):
            pending.add_metric([kind], owed.pending.get(kind, 0))
        yield pending
        yield GaugeMetricFamily(metrics.LAG, "Now minus the due time of the oldest delivery "
                                "that is due and still pending (0 when none is).",
                                value=owed.lag_seconds(now))


class _ThisProcess(Collector):
    """The process's default registry, read through a registry of our own (so several apps
    in one process, as in tests, never register the backlog twice globally)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def registry(container: Container) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    path = multiprocess_dir()
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        multiprocess.MultiProcessCollector(reg, path=str(path))  # type: ignore[no-untyped-call]
    else:
        reg.register(_ThisProcess())
    reg.register(BacklogCollector(container))
    return reg


def authorized(token: str | None) -> bool:
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              token.encode())


def _route(web: Flask, container: Container) -> None:
    reg = registry(container)
    token = container.settings.metrics_token

    @web.get("/metrics")
    def metrics_endpoint() -> Response | tuple[Response, int]:
        if not authorized(token):
            denied = jsonify(error="a bearer token is required (OKR_METRICS_TOKEN)")
            denied.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return denied, 401
        return Response(generate_latest(reg), mimetype=CONTENT_TYPE_LATEST)


def _timing(web: Flask) -> None:
    @web.before_request
    def started() -> None:
        g.okr_started = time.perf_counter()

    @web.after_request
    def observed(response: Response) -> Response:
        began = g.pop("okr_started", None)
        if began is not None:
            # The URL rule, never the raw path: one series per route whatever the ids in it.
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            method = request.method if request.method in METHODS else "other"
            metrics.HTTP_SECONDS.labels(route, method, str(response.status_code)).observe(
                time.perf_counter() - began)
        return response


def install(web: Flask, container: Container) -> None:
    """``/metrics`` and request timing on ``okr serve``'s app, when ``OKR_METRICS=on``."""
    if container.settings.metrics != "on":
        return
    _route(web, container)
    _timing(web)


def standalone_app(container: Container) -> Flask:
    web = Flask("okr-checkin-metrics")

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if ping(container.engine):
            return jsonify(status="ok"), 200
        return jsonify(status="database unavailable"), 503

    install(web, container)
    return web


def serve_alone(container: Container, host: str, port: int) -> Callable[[], None]:
    """``/healthz`` (and ``/metrics`` when ``OKR_METRICS=on``) in a background thread;
    returns the stop function."""
    # Deferred for start-up cost: only processes serving metrics on their own need it.
    from werkzeug.serving import make_server

    try:
        server = make_server(host, port, standalone_app(container), threaded=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: "
                                   f"{exc.strerror or exc}") from None
    thread = threading.Thread(target=server.serve_forever, name="okr-metrics", daemon=True)
    thread.start()
    log.info("metrics.serving", extra={"host": host, "port": port})
    return server.shutdown
