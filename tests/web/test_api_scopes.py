"""Over real HTTP: API tokens have scopes (read, checkin, read:private) and may expire.

A ``read`` token sees non-private objectives with their numbers but not what people wrote,
and private objectives do not exist for it; a write needs ``checkin``; an expired token is a
401 that says so; tokens made before scopes existed act as ``read checkin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import Engine, func, select

from app.bootstrap import Container, utcnow
from app.db import unit_of_work
from app.domain import CheckinAnswer, CheckinSource
from app.models import ApiToken, Checkin, KeyResult, Objective
from app.services.checkins import record as checkins
from app.services.tenancy import tokens
from tests.fixtures.web import seed, serve_web

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Served:
    base: str
    container: Container
    workspace_id: int
    public_kr: str
    public_objective: str
    private_kr: str
    private_objective: str

    def token(self, *scopes: str, legacy: bool = False, expires_at: datetime | None = None,
              made: datetime = NOW) -> str:
        with unit_of_work(self.container.session_factory) as s:
            new = tokens.create(session=s, workspace_id=self.workspace_id, name="t", now=made,
                                scopes=scopes, expires_at=expires_at)
            if legacy:
                s.get_one(ApiToken, new.token.id).scopes = None
        return new.secret

    def get(self, path: str, secret: str) -> requests.Response:
        return requests.get(f"{self.base}/api/v1/{path}",
                            headers={"Authorization": f"Bearer {secret}"}, timeout=10)

    def post(self, kr: str, secret: str, body: dict[str, object]) -> requests.Response:
        return requests.post(f"{self.base}/api/v1/key-results/{kr}/checkins", json=body,
                             headers={"Authorization": f"Bearer {secret}"}, timeout=10)

    def checkins(self) -> int:
        with unit_of_work(self.container.session_factory) as s:
            return s.scalar(select(func.count()).select_from(Checkin)) or 0


@pytest.fixture()
def served(fresh_engine: Engine) -> Iterator[Served]:
    with serve_web(fresh_engine) as (base, container):
        with unit_of_work(container.session_factory) as s:
            org = seed(s, NOW)
            secret_obj = Objective(workspace_id=org.workspace_id, key="acme-secret",
                                   cycle_id=org.objective.cycle_id, owner_id=org.person_id,
                                   title="A private plan", visibility="private",
                                   created_at=NOW, updated_at=NOW, position=1)
            s.add(secret_obj)
            s.flush()
            org.objective.aligned_objective_id = secret_obj.id
            secret_kr = KeyResult(workspace_id=org.workspace_id, key="acme-secret-kr",
                                  objective_id=secret_obj.id, title="Secret KR",
                                  kr_type="manual", owner_id=org.person_id, position=0,
                                  created_at=NOW, updated_at=NOW)
            s.add(secret_kr)
            s.flush()
            checkins.record(session=s, workspace_id=org.workspace_id, kr=org.krs["ttfv"],
                            data=CheckinAnswer(kr_key=org.krs["ttfv"].key, value=9.0,
                                               note="customer X churned", blockers="legal"),
                            author_id=org.person_id, actor_label="test",
                            source=CheckinSource.SLACK, now=NOW)
            found = Served(base, container, org.workspace_id, org.krs["ttfv"].key,
                           org.objective.key, secret_kr.key, secret_obj.key)
        yield found


def test_read_token_sees_numbers_but_not_notes_nor_private_objectives(served: Served) -> None:
    secret = served.token("read")
    kr = served.get(f"key-results/{served.public_kr}", secret)
    assert kr.status_code == 200
    (entry,) = kr.json()["history"]
    assert entry["value"] == 9.0 and (entry["note"], entry["blockers"]) == (None, None)
    objective = served.get(f"objectives/{served.public_objective}", secret).json()
    assert objective["aligned_to"] is None  # its parent is private
    for path in (f"key-results/{served.private_kr}", f"objectives/{served.private_objective}"):
        hidden = served.get(path, secret)
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    # The same answer as a key that does not exist: nothing tells them apart.
    assert "acme-secret" in served.get(f"objectives/{served.private_objective}",
                                       secret).json()["error"]["message"]
    refused = served.post(served.private_kr, served.token("read", "checkin"), {"score": 0.5})
    assert refused.status_code == 404 and served.checkins() == 1


def test_read_private_token_sees_private_objectives_and_notes(served: Served) -> None:
    secret = served.token("read:private")
    (entry,) = served.get(f"key-results/{served.public_kr}", secret).json()["history"]
    assert (entry["note"], entry["blockers"]) == ("customer X churned", "legal")
    assert served.get(f"objectives/{served.private_objective}", secret).status_code == 200
    assert served.get(f"objectives/{served.public_objective}", secret).json()[
        "aligned_to"] == served.private_objective
    assert served.get(f"key-results/{served.private_kr}", secret).status_code == 200


def test_a_write_needs_the_checkin_scope(served: Served) -> None:
    refused = served.post(served.public_kr, served.token("read"), {"value": 8})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "insufficient_scope" and "checkin" in error["message"]
    assert served.checkins() == 1
    write_only = served.token("checkin")
    recorded = served.post(served.public_kr, write_only, {"value": 8, "note": "nightly"})
    assert recorded.status_code == 201
    assert "key_result" not in recorded.json()  # it may write, not read
    assert served.checkins() == 2
    read = served.get(f"key-results/{served.public_kr}", write_only)
    assert read.status_code == 403 and "read" in read.json()["error"]["message"]


def test_expired_token_is_401_with_a_clear_error(served: Served) -> None:
    real_now = utcnow()
    secret = served.token("read", "checkin", made=real_now - timedelta(days=10),
                          expires_at=real_now - timedelta(minutes=1))
    for response in (served.get(f"key-results/{served.public_kr}", secret),
                     served.post(served.public_kr, secret, {"value": 8})):
        assert response.status_code == 401
        assert response.headers["Content-Type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "token_expired" and "expired" in error["message"]
    assert served.checkins() == 1
    live = served.token("read", expires_at=real_now + timedelta(days=1), made=real_now)
    assert served.get(f"key-results/{served.public_kr}", live).status_code == 200


def test_tokens_made_before_scopes_read_and_check_in(served: Served) -> None:
    secret = served.token(legacy=True)
    assert served.post(served.public_kr, secret, {"value": 8}).status_code == 201
    (latest, _) = served.get(f"key-results/{served.public_kr}", secret).json()["history"]
    assert latest["value"] == 8.0
    assert served.get(f"objectives/{served.private_objective}", secret).status_code == 404
