"""The composition root: build engine, session factory and settings once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import log_format, log_redaction
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.migrate import upgrade


@dataclass
class Container:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, migrate: bool = False) -> Container:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine))


def utcnow() -> datetime:
    """The one place the real clock is read; everything below takes ``now`` as an argument."""
    return datetime.now(UTC)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr in ``fmt`` (``text`` or ``json``), tokens masked in every line."""
    handler = logging.StreamHandler()
    handler.setFormatter(log_format.formatter(fmt))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    log_redaction.install()  # no token in any log line
    if fmt == "json":
        logging.captureWarnings(True)  # a Python warning is a JSON line too, not free text
    if level.upper() != "DEBUG":
        # Migration chatter on every command start, and APScheduler's two lines for every run
        # of every job, say nothing an operator needs (the tick logs what it did, see
        # scheduler/jobs.py); both come back with OKR_LOG_LEVEL=DEBUG.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
