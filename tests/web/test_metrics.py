"""``/metrics`` in one process (Flask's test client, SQLite and PostgreSQL): the settings, the
token, the route label, and the delivery backlog read from the database at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.bootstrap import Container
from app.commands.serve import check_metrics
from app.config import Settings
from app.metrics_http import standalone_app
from app.models import Delivery, Workspace
from app.web import create_web_app
from tests.fixtures.web import seed

TOKEN = "tok-Ünicode-ok"


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-test", **values)  # type: ignore[call-arg]


def container(db_engine: Engine, factory: sessionmaker[Session], **values: str) -> Container:
    return Container(settings=settings(**values), engine=db_engine, session_factory=factory)


def samples(client: FlaskClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]],
                                                       float]:
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(resp.text) for s in f.samples}


def row(ws: int, kind: str, target: str, due: datetime, state: str = "pending") -> Delivery:
    return Delivery(workspace_id=ws, kind=kind, target=target, occurrence=f"{target}-{due}",
                    due_at=due, state=state, attempts=0, created_at=due)


def test_the_backlog_is_read_at_scrape_time(db_engine: Engine,
                                            session_factory: sessionmaker[Session],
                                            session: Session) -> None:
    now = datetime.now(UTC)
    org = seed(session, now)
    gone = Workspace(name="gone", created_at=now, holiday_dates=[], disabled_at=now)
    session.add(gone)
    session.flush()
    session.add_all([
        row(org.workspace_id, "prompt", "U1", now - timedelta(minutes=10)),
        row(org.workspace_id, "prompt", "U2", now - timedelta(minutes=3)),
        row(org.workspace_id, "digest", "C1", now + timedelta(hours=1)),  # not due yet
        row(org.workspace_id, "prompt", "U3", now - timedelta(hours=3), state="sent"),
        row(gone.id, "prompt", "U9", now - timedelta(hours=2)),  # never sent, on purpose
    ])
    session.commit()
    web = create_web_app(container(db_engine, session_factory, OKR_METRICS="on"))
    got = samples(web.test_client())
    assert got[("okr_deliveries_pending", (("kind", "prompt"),))] == 2
    assert got[("okr_deliveries_pending", (("kind", "digest"),))] == 1
    assert got[("okr_deliveries_pending", (("kind", "nudge"),))] == 0
    assert 600 <= got[("okr_delivery_lag_seconds", ())] < 700


def test_nothing_pending_is_no_lag(db_engine: Engine,
                                   session_factory: sessionmaker[Session]) -> None:
    web = standalone_app(container(db_engine, session_factory, OKR_METRICS="on"))
    got = samples(web.test_client())
    assert got[("okr_delivery_lag_seconds", ())] == 0
    assert web.test_client().get("/healthz").status_code == 200


def test_off_serves_no_metrics(db_engine: Engine,
                               session_factory: sessionmaker[Session]) -> None:
    for web in (create_web_app(container(db_engine, session_factory)),
                standalone_app(container(db_engine, session_factory))):
        assert web.test_client().get("/metrics").status_code == 404


def test_the_token_is_required_when_set(db_engine: Engine,
                                        session_factory: sessionmaker[Session]) -> None:
    web = create_web_app(container(db_engine, session_factory, OKR_METRICS="on",
                                   OKR_METRICS_TOKEN=TOKEN))
    client = web.test_client()
    refused = [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer nope"},
               {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Token {TOKEN}"},
               {"Authorization": TOKEN}]
    for headers in refused:
        resp = client.get("/metrics", headers=headers)
        assert resp.status_code == 401, headers
        assert b"okr_" not in resp.data
    assert "okr_delivery_lag_seconds" in str(samples(client, Authorization=f"Bearer {TOKEN}"))
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_latency_is_labelled_by_route_not_path(db_engine: Engine,
                                               session_factory: sessionmaker[Session]) -> None:
    client = create_web_app(container(db_engine, session_factory, OKR_METRICS="on")).test_client()
    name = "okr_http_request_duration_seconds_count"
    rule = (name, (("method", "POST"), ("route", "/webhooks/gitlab/<key>"), ("status", "404")))
    unmatched = (name, (("method", "GET"), ("route", "unmatched"), ("status", "404")))
    odd = (name, (("method", "other"), ("route", "unmatched"), ("status", "405")))
    before = samples(client)
    for key in ("a1", "b2", "c3"):
        assert client.post(f"/webhooks/gitlab/{key}", data=b"{}").status_code == 404
    client.get("/no/such/page/42")
    client.open("/healthz", method="BREW")
    after = samples(client)
    assert after[rule] - before.get(rule, 0) == 3
    assert after[unmatched] - before.get(unmatched, 0) == 1
    assert after[odd] - before.get(odd, 0) == 1
    assert not [k for k in after if any(v in ("a1", "b2", "c3") for _, v in k[1])]


def test_the_setting_takes_on_or_off_only() -> None:
    assert settings().metrics == "off" and settings(OKR_METRICS=" ON ").metrics == "on"
    with pytest.raises(ValidationError, match="OKR_METRICS must be 'on' or 'off'"):
        settings(OKR_METRICS="yes")


def test_several_workers_need_the_multiprocess_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(click.UsageError, match="PROMETHEUS_MULTIPROC_DIR"):
        check_metrics(settings(OKR_METRICS="on", OKR_WEB_WORKERS="2"))
    check_metrics(settings(OKR_METRICS="on", OKR_WEB_WORKERS="1"))
    check_metrics(settings(OKR_WEB_WORKERS="4"))  # metrics off: nothing to add up
    check_metrics(settings(OKR_METRICS="on", OKR_WEB_WORKERS="2"), socket_mode=True)
