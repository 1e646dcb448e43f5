"""Bad input over real HTTP gets a clear 4xx naming the field and changes nothing: the progress
API's bodies (NUL bytes, lone surrogates, huge integers, oversized fields), its path and
headers, and one Idempotency-Key sent by many callers at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from app.bootstrap import Container
from app.db import unit_of_work
from app.models import Checkin, KeyResult
from app.services.tenancy import tokens
from tests.dbutil import migrated_engine
from tests.e2e.test_sqlite_concurrency import _together
from tests.fixtures.web import seed, serve_web

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[str, dict[str, str], Container]]:
    """The served web app, a workspace with KRs, and a token's Authorization header."""
    with migrated_engine(request.param, tmp_path_factory.mktemp("bad")) as engine, \
            serve_web(engine) as (base, container):
        with unit_of_work(container.session_factory) as s:
            org = seed(s, NOW)
            secret = tokens.create(session=s, workspace_id=org.workspace_id, name="ci",
                                   now=NOW).secret
        yield base, {"Authorization": f"Bearer {secret}"}, container


def _checkins(container: Container, kr_key: str = "acme-ttfv") -> int:
    with unit_of_work(container.session_factory) as s:
        return s.scalar(select(func.count()).select_from(Checkin).join(
            KeyResult, KeyResult.id == Checkin.kr_id).where(KeyResult.key == kr_key)) or 0


def _post(base: str, auth: dict[str, str], key: str, raw: bytes,
          **headers: str) -> requests.Response:
    return requests.post(f"{base}/api/v1/key-results/{key}/checkins", data=raw,
                         headers={**auth, "Content-Type": "application/json", **headers},
                         timeout=30)


BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("nul in note", b'{"value": 7, "note": "fine\\u0000then"}', "note"),
    ("nul in blockers", b'{"value": 7, "blockers": "\\u0000"}', "blockers"),
    ("lone surrogate in note", b'{"value": 7, "note": "x\\ud800y"}', "note"),
    ("lone surrogate in status", b'{"value": 7, "status": "\\udfff"}', "status"),
    ("400-digit integer", b'{"value": 1' + b"0" * 400 + b"}", "value"),
    ("huge negative integer", b'{"value": -' + b"9" * 400 + b"}", "value"),
    ("oversized note", b'{"value": 7, "note": "' + b"x" * 5000 + b'"}', "note"),
    ("oversized status", b'{"value": 7, "status": "' + b"g" * 5000 + b'"}', "status"),
    ("nul in an unknown field's name", b'{"value": 7, "n\\u0000": 1}', "n\x00"),
    ("surrogate in an unknown field's name", b'{"\\ud800": 1}', "\ud800"),
]


def test_bad_bodies_are_422_with_the_field(api: tuple[str, dict[str, str], Container]) -> None:
    base, auth, container = api
    answers = {}
    for case, raw, _ in BAD_BODIES:
        response = _post(base, auth, "acme-ttfv", raw)
        answers[case] = (response.status_code, response.json()["error"].get("field")
                         if response.status_code < 500 else response.text)
    assert answers == {case: (422, field) for case, _, field in BAD_BODIES}
    assert _checkins(container) == 0


def test_bad_path_keys_are_404(api: tuple[str, dict[str, str], Container]) -> None:
    base, auth, _ = api
    keys = ["acme%00ttfv", "%ED%A0%80", "x" * 3000, "%F0%9F%92%A9", "%C0%80", "a%0Ab"]
    answers = {}
    for key in keys:
        read = requests.get(f"{base}/api/v1/key-results/{key}", headers=auth, timeout=30)
        write = _post(base, auth, key, b'{"value": 7}')
        objective = requests.get(f"{base}/api/v1/objectives/{key}", headers=auth, timeout=30)
        answers[key] = [read.status_code, write.status_code, objective.status_code]
    assert answers == {key: [404, 404, 404] for key in keys}


def test_bad_headers_are_4xx(api: tuple[str, dict[str, str], Container]) -> None:
    base, auth, container = api
    bad: list[dict[str, Any]] = [
        {"Authorization": "Bearer okr_\x00abc"}, {"Authorization": "Bearer okr_\xe9\xff"},
        {"Authorization": "Bearer " + "okr_" + "a" * 5000}, {"Idempotency-Key": "k\xe9y\x00"},
        {"Idempotency-Key": "x" * 5000}, {"Idempotency-Key": "a\x7fb"},
    ]
    statuses = [requests.post(f"{base}/api/v1/key-results/acme-ttfv/checkins",
                              json={"value": 7}, headers={**auth, **h}, timeout=30).status_code
                for h in bad]
    assert all(400 <= status < 500 for status in statuses), statuses
    assert _checkins(container) == 0


def test_one_idempotency_key_from_many_callers_records_once(
        api: tuple[str, dict[str, str], Container]) -> None:
    base, auth, container = api
    calls = 30
    # Once used, the token row is not written again for a while: nothing else serialises them.
    assert requests.get(f"{base}/api/v1/key-results/acme-feel", headers=auth,
                        timeout=30).status_code == 200
    responses = _together(calls, lambda i: _post(
        base, auth, "acme-feel", b'{"score": 0.5, "note": "nightly"}',
        **{"Idempotency-Key": "n1"}))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (calls - 1) + [201], statuses
    replays = [r for r in responses if r.status_code == 200]
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in replays)
    first = next(r for r in responses if r.status_code == 201).json()["checkin"]
    assert {r.json()["checkin"]["id"] for r in replays} == {first["id"]}
    assert _checkins(container, "acme-feel") == 1
