"""Fixtures for issue links, webhooks, reconciliation and the progress API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import api, webhooks
from app.bootstrap import Container
from app.config import Settings
from app.models import Cycle, KeyResult, Objective, Person, Workspace

GITLAB_SECRET = "gl-secret-ü"
GITHUB_SECRET = "gh-secret"


@dataclass
class Org:
    workspace_id: int
    person_id: int
    objective: Objective
    krs: dict[str, KeyResult]


def seed(session: Session, now: datetime, *, name: str = "acme", slack_id: str = "U0ADA",
         kr_types: dict[str, str] | None = None) -> Org:
    """A workspace with one active cycle, one objective and a few KRs."""
    ws = Workspace(name=name, created_at=now, holiday_dates=[])
    session.add(ws)
    session.flush()
    person = Person(workspace_id=ws.id, slack_id=slack_id, name="Ada", tz="Europe/Berlin",
                    created_at=now)
    cycle = Cycle(workspace_id=ws.id, name="FY27-Q1", start_date=date(2026, 2, 1),
                  end_date=date(2026, 4, 30), phase="active")
    session.add_all([person, cycle])
    session.flush()
    obj = Objective(workspace_id=ws.id, key=f"{name}-obj", cycle_id=cycle.id, owner_id=person.id,
                    title="Onboarding", created_at=now, updated_at=now)
    session.add(obj)
    session.flush()
    krs: dict[str, KeyResult] = {}
    types = kr_types or {"bugs": "issues", "ttfv": "decrease", "feel": "manual"}
    for pos, (key, kind) in enumerate(types.items()):
        kr = KeyResult(workspace_id=ws.id, key=f"{name}-{key}", objective_id=obj.id,
                       title=f"KR {key}", kr_type=kind, owner_id=person.id, position=pos,
                       start_value=14.0 if kind == "decrease" else None,
                       target_value=5.0 if kind == "decrease" else None,
                       created_at=now, updated_at=now)
        session.add(kr)
        krs[key] = kr
    session.flush()
    return Org(ws.id, person.id, obj, krs)


def settings(**extra: object) -> Settings:
    base: dict[str, object] = {
        "OKR_GITLAB_WEBHOOK_SECRET": GITLAB_SECRET, "OKR_GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "OKR_GITLAB_HOSTS": "gitlab.com,git.example.org",
    }
    base.update(extra)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def flask_app(container: Container, clock: object) -> Flask:
    app = Flask("okr-test")
    app.register_blueprint(api.blueprint(container, clock=clock))  # type: ignore[arg-type]
    app.register_blueprint(webhooks.blueprint(container, clock=clock))  # type: ignore[arg-type]
    return app


@pytest.fixture()
def container(db_engine: Engine, session_factory: sessionmaker[Session]) -> Container:
    return Container(settings=settings(), engine=db_engine, session_factory=session_factory)


@pytest.fixture()
def client(container: Container, now: datetime) -> Iterator[FlaskClient]:
    app = flask_app(container, lambda: now)
    with app.test_client() as c:
        yield c
