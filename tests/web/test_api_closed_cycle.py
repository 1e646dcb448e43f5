"""The progress API answers 409 for a key result of a closed cycle and stores nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.api import openapi_document
from app.models import AuditEntry, Checkin, Cycle, KeyResult
from app.services.tenancy import tokens
from tests.fixtures.web import Org, seed


@pytest.fixture()
def org(session: Session, now: datetime) -> Org:
    org = seed(session, now)
    session.commit()
    return org


@pytest.fixture()
def secret(session: Session, org: Org, now: datetime) -> str:
    new = tokens.create(session=session, workspace_id=org.workspace_id, name="ci", now=now)
    session.commit()
    return new.secret


def _phase(session: Session, org: Org, phase: str) -> None:
    session.get_one(Cycle, org.objective.cycle_id).phase = phase
    session.commit()


def test_closed_cycle_is_409_with_the_reason(client: FlaskClient, session: Session, org: Org,
                                             secret: str) -> None:
    key = org.krs["ttfv"].key
    _phase(session, org, "closed")
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(f"/api/v1/key-results/{key}/checkins",
                           headers={"Authorization": f"Bearer {secret}"},
                           json={"value": 9.0, "status": "green"})
    assert response.status_code == 409 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "cycle_closed"
    assert "FY27-Q1 is closed" in error["message"] and "okr cycle reopen" in error["message"]
    session.expire_all()
    assert session.scalars(select(Checkin)).all() == []
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert session.get_one(KeyResult, org.krs["ttfv"].id).current_value is None
    # Reading it still works: read-only, not gone.
    read = client.get(f"/api/v1/key-results/{key}", headers={"Authorization": f"Bearer {secret}"})
    assert read.status_code == 200


def test_review_still_takes_checkins_and_reopen_restores(client: FlaskClient, session: Session,
                                                         org: Org, secret: str) -> None:
    key = org.krs["ttfv"].key
    auth = {"Authorization": f"Bearer {secret}"}
    _phase(session, org, "review")
    first = client.post(f"/api/v1/key-results/{key}/checkins", headers=auth, json={"value": 9.0})
    assert first.status_code == 201
    _phase(session, org, "closed")
    refused = client.post(f"/api/v1/key-results/{key}/checkins", headers=auth,
                          json={"value": 8.0})
    assert refused.status_code == 409
    _phase(session, org, "active")
    again = client.post(f"/api/v1/key-results/{key}/checkins", headers=auth, json={"value": 8.0})
    assert again.status_code == 201
    session.expire_all()
    assert [c.value for c in session.scalars(select(Checkin).order_by(Checkin.id))] == [9.0, 8.0]


def test_the_spec_documents_the_409() -> None:
    post = openapi_document()["paths"]["/api/v1/key-results/{id}/checkins"]["post"]
    assert post["responses"]["409"] == {"$ref": "#/components/responses/CycleClosed"}
    assert "closed" in openapi_document()["components"]["responses"]["CycleClosed"][
        "description"]
