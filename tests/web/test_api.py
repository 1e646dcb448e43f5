"""The progress API: tokens, check-ins, reads, and errors with reasons."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api import openapi_document
from app.models import ApiToken, Checkin
from app.services.errors import InvalidValue, NotFound
from app.services.links import attach
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


def _auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_token_is_stored_hashed_and_shown_once(session: Session, org: Org, now: datetime) -> None:
    new = tokens.create(session=session, workspace_id=org.workspace_id, name="bi", now=now)
    row = session.get(ApiToken, new.token.id)
    assert row is not None and new.secret.startswith("okr_") and len(new.secret) > 40
    assert new.secret not in (row.token_hash, row.prefix) and row.prefix == new.secret[:12]
    assert row.token_hash == tokens.hash_secret(new.secret)
    assert tokens.verify(session=session, secret=new.secret, now=now) is row
    assert tokens.verify(session=session, secret=new.secret + "x", now=now) is None
    assert tokens.verify(session=session, secret="x" * 5000, now=now) is None


def test_revoke_by_id_prefix_or_name(session: Session, org: Org, now: datetime) -> None:
    a = tokens.create(session=session, workspace_id=org.workspace_id, name="a", now=now)
    tokens.create(session=session, workspace_id=org.workspace_id, name="twin", now=now)
    tokens.create(session=session, workspace_id=org.workspace_id, name="twin", now=now)
    tokens.revoke(session=session, workspace_id=org.workspace_id, ref=a.token.prefix, now=now)
    assert tokens.verify(session=session, secret=a.secret, now=now) is None
    with pytest.raises(InvalidValue, match="2 tokens are named 'twin'"):
        tokens.revoke(session=session, workspace_id=org.workspace_id, ref="twin", now=now)
    with pytest.raises(NotFound):
        tokens.revoke(session=session, workspace_id=org.workspace_id, ref="nope", now=now)
    with pytest.raises(InvalidValue):
        tokens.create(session=session, workspace_id=org.workspace_id, name="  ", now=now)


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer okr_wrong",
                                    "Bearer not-even-prefixed"])
def test_missing_or_bad_token_is_401(client: FlaskClient, org: Org, secret: str,
                                     header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/api/v1/key-results/{org.krs['ttfv'].key}", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_and_other_workspaces(client: FlaskClient, session: Session, org: Org,
                                            secret: str, now: datetime) -> None:
    other = seed(session, now, name="beta", slack_id="U0B")
    session.commit()
    response = client.get(f"/api/v1/key-results/{other.krs['ttfv'].key}", headers=_auth(secret))
    assert response.status_code == 404  # another workspace's KR does not exist for this token
    tokens.revoke(session=session, workspace_id=org.workspace_id, ref="ci", now=now)
    session.commit()
    response = client.get(f"/api/v1/key-results/{org.krs['ttfv'].key}", headers=_auth(secret))
    assert response.status_code == 401


def test_checkin_moves_the_kr_and_shows_in_history(client: FlaskClient, session: Session,
                                                   org: Org, secret: str, now: datetime) -> None:
    key = org.krs["ttfv"].key
    response = client.post(f"/api/v1/key-results/{key}/checkins", headers=_auth(secret),
                           json={"value": 9.5, "status": "yellow", "note": "nightly",
                                 "confidence": "medium"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["checkin"]["source"] == "api" and body["checkin"]["value"] == 9.5
    assert body["key_result"]["current"] == 9.5
    assert body["key_result"]["score"] == pytest.approx(0.5)
    assert body["key_result"]["declared_status"] == "yellow"
    detail = client.get(f"/api/v1/key-results/{key}", headers=_auth(secret)).get_json()
    assert [h["note"] for h in detail["history"]] == [None]  # notes need read:private
    private = tokens.create(session=session, workspace_id=org.workspace_id, name="bi", now=now,
                            scopes=["read:private"]).secret
    session.commit()
    detail = client.get(f"/api/v1/key-results/{key}", headers=_auth(private)).get_json()
    assert [h["note"] for h in detail["history"]] == ["nightly"]
    assert detail["cycle"] == "FY27-Q1" and detail["owner"]["slack_id"] == "U0ADA"
    row = session.scalars(select(Checkin).where(Checkin.kr_id == org.krs["ttfv"].id)).one()
    assert (row.source, row.author_id) == ("api", None)


def test_manual_and_issues_krs(client: FlaskClient, session: Session, org: Org, secret: str,
                               now: datetime) -> None:
    feel, bugs = org.krs["feel"].key, org.krs["bugs"].key
    ok = client.post(f"/api/v1/key-results/{feel}/checkins", headers=_auth(secret),
                     json={"score": 0.7})
    assert ok.status_code == 201 and ok.get_json()["key_result"]["score"] == 0.7
    refused = client.post(f"/api/v1/key-results/{bugs}/checkins", headers=_auth(secret),
                          json={"value": 3})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "value"
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
              url="https://gitlab.com/acme/web/-/issues/1", now=now, actor_label="t",
              gitlab_hosts=["gitlab.com"])
    session.commit()
    noted = client.post(f"/api/v1/key-results/{bugs}/checkins", headers=_auth(secret),
                        json={"status": "red", "blockers": "review queue"})
    assert noted.status_code == 201
    kr = noted.get_json()["key_result"]
    assert kr["status"] == "red" and kr["links"][0]["state"] == "unknown"


def test_idempotency_key_records_once(client: FlaskClient, session: Session, org: Org,
                                      secret: str) -> None:
    key = org.krs["ttfv"].key
    headers = {**_auth(secret), "Idempotency-Key": "build-481"}
    first = client.post(f"/api/v1/key-results/{key}/checkins", headers=headers,
                        json={"value": 10})
    again = client.post(f"/api/v1/key-results/{key}/checkins", headers=headers,
                        json={"value": 10})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["checkin"]["id"] == first.get_json()["checkin"]["id"]
    count = len(session.scalars(select(Checkin).where(Checkin.kr_id == org.krs["ttfv"].id)).all())
    assert count == 1
    bad = client.post(f"/api/v1/key-results/{key}/checkins",
                      headers={**_auth(secret), "Idempotency-Key": "x" * 101}, json={"value": 1})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "value"), ({"value": "9"}, "value"), ({"value": True}, "value"),
    ({"value": 1e300}, "value"), ({"value": 9, "status": "purple"}, "status"),
    ({"value": 9, "confidence": "total"}, "confidence"), ({"value": 9, "note": 5}, "note"),
    ({"value": 9, "note": "x" * 3001}, "note"), ({"value": 9, "extra": 1}, "extra"),
    ({"score": 0.5}, "score"), ([1, 2], None),
])
def test_invalid_bodies_get_422_with_the_field(client: FlaskClient, session: Session, org: Org,
                                               secret: str, body: object,
                                               field: str | None) -> None:
    response = client.post(f"/api/v1/key-results/{org.krs['ttfv'].key}/checkins",
                           headers=_auth(secret), json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"] and error.get("field") == field
    assert session.scalars(select(Checkin).where(Checkin.kr_id == org.krs["ttfv"].id)).all() == []


def test_transport_errors(client: FlaskClient, org: Org, secret: str) -> None:
    url = f"/api/v1/key-results/{org.krs['ttfv'].key}/checkins"
    bad_json = client.post(url, headers={**_auth(secret), "Content-Type": "application/json"},
                           data=b"{value: 1")
    assert bad_json.status_code == 400
    form = client.post(url, headers=_auth(secret), data={"value": "1"})
    assert form.status_code == 415 and form.get_json()["error"]["code"] == (
        "unsupported_media_type")
    big = client.post(url, headers={**_auth(secret), "Content-Type": "application/json"},
                      data=b'{"note": "' + b"x" * 70_000 + b'"}')
    assert big.status_code == 413
    missing = client.post("/api/v1/key-results/nope/checkins", headers=_auth(secret),
                          json={"value": 1})
    assert missing.status_code == 404 and "nope" in missing.get_json()["error"]["message"]
    assert client.delete(url, headers=_auth(secret)).status_code == 405
    assert client.get("/api/v1/nothing-here").get_json()["error"]["code"] == "not_found"


def test_objective_read(client: FlaskClient, org: Org, secret: str) -> None:
    response = client.get(f"/api/v1/objectives/{org.objective.key}", headers=_auth(secret))
    assert response.status_code == 200
    body = response.get_json()
    assert [k["id"] for k in body["key_results"]] == [k.key for k in org.krs.values()]
    assert client.get("/api/v1/objectives/none", headers=_auth(secret)).status_code == 404


def test_last_used_is_a_hint_not_a_write_per_call(client: FlaskClient, session: Session,
                                                  org: Org, secret: str, now: datetime) -> None:
    client.get(f"/api/v1/objectives/{org.objective.key}", headers=_auth(secret))
    row = session.scalars(select(ApiToken).where(ApiToken.workspace_id == org.workspace_id)).one()
    session.refresh(row)
    assert row.last_used_at == now
    assert tokens.verify(session=session, secret=secret, now=now + timedelta(minutes=1)) is row
    assert row.last_used_at == now


def test_openapi_document_is_served_and_lists_every_route(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1") and doc == openapi_document()
    app_routes = {r.rule.replace("<key>", "{id}") for r in client.application.url_map.iter_rules()
                  if r.rule.startswith("/api/v1")}
    assert app_routes == set(doc["paths"])
