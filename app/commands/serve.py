"""``okr serve``: the Slack app over HTTP (gunicorn) or Socket Mode, plus the scheduler."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import click

from app.bootstrap import Container, bootstrap
from app.commands.admin import require_secret_key
from app.config import Settings


def _start_scheduler(container: Container) -> Callable[[], None]:
    """Start the scheduler's runner; returns a stop function."""
    # Deferred for start-up cost: APScheduler loads only in processes that run the scheduler.
    from scheduler import runner

    return runner.start(container)


class GunicornApp:
    """gunicorn's BaseApplication, built lazily so importing this module needs no gunicorn."""

    @staticmethod
    def run(wsgi: Any, options: dict[str, Any]) -> None:
        # Deferred for start-up cost: only `okr serve` over HTTP needs gunicorn.
        from gunicorn.app.base import BaseApplication
        from gunicorn.glogging import Logger

        class _ThroughRoot(Logger):  # type: ignore[misc]
            """gunicorn's own lines through the root handler: one format (OKR_LOG_FORMAT)
            and the token filter for every line the process writes."""

            def setup(self, cfg: Any) -> None:
                super().setup(cfg)
                for logger in (self.error_log, self.access_log):
                    for handler in list(logger.handlers):
                        logger.removeHandler(handler)
                    logger.propagate = True

        class _App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in options.items():
                    if key in self.cfg.settings and value is not None:
                        self.cfg.set(key, value)
                self.cfg.set("logger_class", _ThroughRoot)

            def load(self) -> Any:
                return wsgi

        _App().run()


def gunicorn_options(settings: Settings, host: str, port: int,
                     container: Container | None = None,
                     scheduler: bool = False) -> dict[str, Any]:
    """gunicorn settings; with ``scheduler`` each worker ticks (ticks are safe in parallel)."""
    stops: list[Callable[[], None]] = []

    def post_fork(server: Any, worker: Any) -> None:
        # Connections opened before the fork (migrations) belong to the parent.
        if container is not None:
            container.engine.dispose(close=False)

    def post_worker_init(worker: Any) -> None:
        # Started after the fork: threads do not survive one, and locks held by them would.
        if scheduler and container is not None:
            stops.append(_start_scheduler(container))

    def worker_exit(server: Any, worker: Any) -> None:
        for stop in stops:
            stop()

    def child_exit(server: Any, worker: Any) -> None:
        # Deferred for start-up cost: prometheus_client and Flask load only when serving.
        from app import metrics_http

        metrics_http.process_exited(worker.pid)  # with PROMETHEUS_MULTIPROC_DIR set

    return {
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "child_exit": child_exit,
        "bind": f"{host}:{port}",
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "worker_class": "gthread",
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "loglevel": settings.log_level.lower(),
    }


@click.command("serve")
@click.option("--host", default=None, help="Interface to listen on (default OKR_HOST, 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Port (default OKR_PORT, 3000).")
@click.option("--socket-mode", is_flag=True, help="Connect over Socket Mode (SLACK_APP_TOKEN).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the scheduler in this process.")
def serve(host: str | None, port: int | None, socket_mode: bool, no_scheduler: bool) -> None:
    """Serve the Slack app (HTTP by default) and run the scheduler."""
    # Deferred for start-up cost: Bolt, every listener and the metrics load only when serving.
    from app import metrics_http
    from app.slack import create_bolt_app, uses_oauth

    settings = Settings()
    if not settings.slack_signing_secret and not socket_mode:
        raise click.UsageError("SLACK_SIGNING_SECRET is required to serve over HTTP")
    if not settings.slack_bot_token and not uses_oauth(settings):
        raise click.UsageError("set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                               "SLACK_CLIENT_SECRET (OAuth)")
    require_secret_key(settings)
    check_metrics(settings, socket_mode)
    container = bootstrap(settings, migrate=True)
    bolt = create_bolt_app(settings, container)
    stop_scheduler = None
    try:
        if socket_mode:
            stop_scheduler = None if no_scheduler else _start_scheduler(container)
            if settings.metrics == "on":  # no HTTP surface of its own here
                metrics_http.serve_alone(container, host or settings.host,
                                         port or settings.port)
            _serve_socket_mode(settings, bolt)
        else:
            # Deferred for start-up cost: Flask and the HTTP routes load only when serving HTTP.
            from app.web import create_web_app

            web = create_web_app(container, bolt)
            GunicornApp.run(web, gunicorn_options(settings, host or settings.host,
                                                  port or settings.port, container,
                                                  scheduler=not no_scheduler))
    finally:
        if stop_scheduler is not None:
            stop_scheduler()
        container.close()


def check_metrics(settings: Settings, socket_mode: bool = False) -> None:
    """Several gunicorn workers each count their own: a scrape adds them up only through
    prometheus_client's multiprocess directory."""
    # Deferred for start-up cost: prometheus_client and Flask load only when serving.
    from app import metrics_http

    if settings.metrics == "on" and not socket_mode and settings.web_workers > 1 \
            and metrics_http.multiprocess_dir() is None:
        raise click.UsageError(
            f"OKR_METRICS=on with OKR_WEB_WORKERS={settings.web_workers} needs "
            f"{metrics_http.MULTIPROC} (a writable directory, emptied at each start) so that "
            "/metrics adds up every worker")
    metrics_http.clear_multiprocess_dir()


def _serve_socket_mode(settings: Settings, bolt: Any) -> None:
    if not settings.slack_app_token:
        raise click.UsageError("--socket-mode needs SLACK_APP_TOKEN (an xapp- token)")
    # Deferred for start-up cost: only Socket Mode needs its adapter.
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bolt, settings.slack_app_token)
    signal.signal(signal.SIGTERM, lambda *_: handler.close())  # type: ignore[no-untyped-call]
    handler.start()  # type: ignore[no-untyped-call]


COMMANDS = [serve]
