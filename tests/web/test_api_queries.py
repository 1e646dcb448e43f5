"""The progress API shows a KR's saved search and which links it brought, as documented."""

from __future__ import annotations

from datetime import datetime

import jsonschema
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.api import openapi_document
from app.services.links import attach, queries
from app.services.links.query_specs import from_mapping
from app.services.links.refs import ItemState
from app.services.tenancy import tokens
from tests.fixtures.web import seed

SPEC = {"provider": "gitlab", "project": "acme/web", "labels": ["okr-q1"]}


def _issue(n: int, state: str = "open") -> ItemState:
    return ItemState("gitlab", "gitlab.com", "acme/web", "issue", n, state, labels=("okr-q1",),
                     milestone="")


def test_a_key_result_shows_its_search_and_where_its_links_came_from(
        client: FlaskClient, session: Session, now: datetime) -> None:
    org = seed(session, now)
    kr = org.krs["bugs"]
    secret = tokens.create(session=session, workspace_id=org.workspace_id, name="ci",
                           now=now).secret
    attach.add(session=session, workspace_id=org.workspace_id, kr=kr, now=now,
               url="https://gitlab.com/acme/web/-/issues/9", actor_label="t",
               gitlab_hosts=["gitlab.com"])
    queries.set_query(session=session, workspace_id=org.workspace_id, kr=kr,
                      spec=from_mapping(SPEC), now=now, actor_label="t",
                      gitlab_hosts=["gitlab.com"])
    row = queries.for_kr(session=session, workspace_id=org.workspace_id, kr_id=kr.id)
    assert row is not None
    for items in ([_issue(1, "closed"), _issue(2)], [_issue(1, "closed")]):
        queries.reconcile(session=session, workspace_id=org.workspace_id, query_id=row.id,
                          items=items, now=now)
    session.commit()

    response = client.get(f"/api/v1/key-results/{kr.key}",
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == {"search": SPEC, "refreshed_at": "2026-03-02T09:00:00Z",
                             "error": None}
    assert [(lk["url"].rsplit("/", 1)[1], lk["from_query"], lk["left_at"])
            for lk in body["links"]] == [("9", False, None), ("1", True, None),
                                         ("2", True, "2026-03-02T09:00:00Z")]
    assert body["score"] == 0.5  # #1 closed of #9 and #1; #2 left
    doc = openapi_document()
    schema = {"$ref": "#/components/schemas/KeyResult", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
    # Without a search the field is there, and null.
    other = client.get(f"/api/v1/key-results/{org.krs['ttfv'].key}",
                       headers={"Authorization": f"Bearer {secret}"}).get_json()
    assert other["query"] is None
    jsonschema.Draft202012Validator(schema).validate(other)
