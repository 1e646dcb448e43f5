"""Fuzzing the HTTP surface. Schema-driven with schemathesis: no 500s from the progress API,
and every answer matches what /api/v1/openapi.json promises (status codes, content types,
body schemas). Hand-written with hypothesis: API bodies (NUL characters, unpaired
surrogates, huge integers, oversized and nested values) and the Slack endpoint's signing
headers and signed bodies are never a 5xx."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.bootstrap import Container
from app.services.links import attach
from app.services.tenancy import tokens
from app.web import create_web_app
from tests.fixtures.slack import Harness
from tests.fixtures.slack import make_settings as slack_settings
from tests.fixtures.web import flask_app, seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


@pytest.fixture()
def fuzz_target(session: Session, container: Container, now: datetime
                ) -> tuple[Flask, dict[str, str], list[str]]:
    org = seed(session, now, kr_types={"bugs": "issues", "ttfv": "decrease", "feel": "manual",
                                       "pct": "percent", "ship": "milestone"})
    attach.add(session=session, workspace_id=org.workspace_id, kr=org.krs["bugs"],
              url="https://github.com/acme/api/issues/1", now=now, actor_label="t",
              gitlab_hosts=["gitlab.com"])
    secret = tokens.create(session=session, workspace_id=org.workspace_id, name="fuzz",
                           now=now).secret
    session.commit()
    ids = [kr.key for kr in org.krs.values()] + [org.objective.key]
    return flask_app(container, lambda: now), {"Authorization": f"Bearer {secret}"}, ids


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_finds_no_server_errors(fuzz_target: tuple[Flask, dict[str, str], list[str]],
                                     mode: GenerationMode) -> None:
    app, auth, ids = fuzz_target
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [*CHECKS, negative_data_rejection] if mode == GenerationMode.NEGATIVE else CHECKS
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # Real ids most of the time, so the happy paths are exercised, not only 404s.
        strategy = st.tuples(operation.as_strategy(generation_mode=mode),
                             st.sampled_from([*ids, None]))

        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def run(drawn: tuple[Any, str | None]) -> None:
            case, real_id = drawn
            # Assigning (not mutating) lets schemathesis re-check which parts are still
            # invalid, so the negative checks judge the request actually sent.
            if real_id is not None and "id" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "id": real_id}
            # Our token replaces a generated one; other generated headers stay.
            headers = {**(case.headers or {}), **auth}
            case.headers = headers
            response = case.call()
            calls.append(response.status_code)
            case.validate_response(response, checks=checks, headers=headers)

        run()
    assert calls and max(calls) < 500
    if mode == GenerationMode.POSITIVE:
        assert 200 in calls  # the reads succeed; test_api pins the successful check-in paths


# --- hand-written strategies: what a client (or an attacker) may send, never a 5xx -----------

# Text as JSON can spell it: NUL and unpaired surrogates included.
_odd_chars = st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff", "\x7f"])
_texts = st.text(st.one_of(st.characters(), _odd_chars), max_size=40) | st.just("x" * 4000)
_numbers = (st.integers() | st.integers(min_value=10**300, max_value=10**400)
            | st.integers(max_value=-10**300, min_value=-10**400) | st.floats())
_scalars = st.none() | st.booleans() | _numbers | _texts
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_texts, inner, max_size=3), max_leaves=6)
# Values known to have reached the database or float() unchecked once.
_hostile = st.sampled_from([10**400, -(10**400), 2**63, "\x00", "a\ud800", "\udfff", "x" * 4000,
                            1e308, [], {}, True])
_bodies = st.one_of(
    st.fixed_dictionaries({"value": st.integers(0, 100)}),
    st.fixed_dictionaries({"score": st.floats(0, 1)}, optional={"note": _texts}),
    st.fixed_dictionaries({"value": st.integers(0, 100) | _hostile},
                          optional={f: _hostile for f in ("note", "blockers", "status")}),
    st.fixed_dictionaries({}, optional={f: _json for f in
                                        ("value", "score", "status", "confidence", "note",
                                         "blockers")}),
    st.dictionaries(_texts, _json, max_size=3), _json)
# Header values as HTTP carries them (latin-1, no line breaks).
_header_chars = st.characters(max_codepoint=255, exclude_characters="\r\n")
_idempotency_keys = st.none() | st.text(_header_chars, max_size=120)


@pytest.fixture()
def api_target(session: Session, client: Any, now: datetime) -> tuple[Any, dict[str, str],
                                                                       list[str]]:
    org = seed(session, now, kr_types={"ttfv": "decrease", "feel": "manual", "pct": "percent",
                                       "ship": "milestone", "bugs": "issues"})
    secret = tokens.create(session=session, workspace_id=org.workspace_id, name="fuzz",
                           now=now).secret
    session.commit()
    return client, {"Authorization": f"Bearer {secret}"}, [kr.key for kr in org.krs.values()]


def test_api_bodies_never_5xx(api_target: tuple[Any, dict[str, str], list[str]]) -> None:
    client, auth, keys = api_target
    seen: list[int] = []

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=_bodies, key=st.sampled_from(keys), idem=_idempotency_keys)
    @example(body={"value": 10**400}, key=keys[0], idem=None)
    @example(body={"value": 7, "note": "a\x00b"}, key=keys[0], idem="k1")
    @example(body={"value": 7, "blockers": "\ud800"}, key=keys[0], idem=None)
    def run(body: Any, key: str, idem: str | None) -> None:
        headers = {**auth, "Content-Type": "application/json"}
        if idem is not None:
            headers["Idempotency-Key"] = idem
        response = client.post(f"/api/v1/key-results/{key}/checkins",
                               data=json.dumps(body), headers=headers)
        seen.append(response.status_code)
        assert response.status_code < 500, (body, idem, response.get_data(as_text=True))
        if 400 <= response.status_code < 500:
            assert response.get_json()["error"]["message"]

    run()
    assert 201 in seen and 422 in seen


# --- the Slack endpoint's signing headers and bodies ----------------------------------------

_header_texts = st.one_of(
    st.none(), st.text(_header_chars, max_size=30),
    st.integers(min_value=-10**20, max_value=10**400).map(str),
    st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "v0=" + h))


@pytest.fixture()
def slack_web(slack: Harness, db_engine: Engine) -> Any:
    app = create_web_app(Container(settings=slack_settings(slack.fake), engine=db_engine,
                                   session_factory=slack.session_factory), slack.app)
    with app.test_client() as c:
        yield c


def test_slack_signing_headers_never_5xx(slack_web: Any, slack: Harness) -> None:
    body = slack.req.command("U0BOB", "mine").body
    statuses: list[int] = []

    @settings(max_examples=80, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(timestamp=_header_texts, signature=_header_texts, fresh=st.booleans())
    def run(timestamp: str | None, signature: str | None, fresh: bool) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if fresh:  # a current timestamp with the right signature for it, then maybe altered
            headers.update({k.title(): v for k, v in slack.req.sign(
                body, "application/x-www-form-urlencoded").items()})
        for name, value in (("X-Slack-Request-Timestamp", timestamp),
                            ("X-Slack-Signature", signature)):
            if value is not None:
                headers[name] = value
        response = slack_web.post("/slack/events", data=body.encode(), headers=headers)
        statuses.append(response.status_code)
        assert response.status_code < 500, headers
        if not fresh or signature is not None or timestamp is not None:
            assert response.status_code in (200, 401), headers

    run()
    assert 401 in statuses


def test_signed_slack_bodies_never_5xx(slack_web: Any, slack: Harness) -> None:
    payloads = st.one_of(
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        _json.map(lambda j: "payload=" + quote(json.dumps(j))),
        st.text(max_size=60).map(lambda t: "payload=" + quote(t)),
        st.fixed_dictionaries({"command": st.just("/okr"), "text": st.text(max_size=20)},
                              optional={"user_id": st.sampled_from(["U0BOB", "", "U\x00"]),
                                        "team_id": st.sampled_from(["T0TEST", "", "\x00"]),
                                        "channel_id": st.text(max_size=5)}).map(urlencode))

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body=payloads)
    def run(body: str) -> None:
        headers = slack.req.sign(body, "application/x-www-form-urlencoded")
        response = slack_web.post("/slack/events", data=body.encode(), headers=headers)
        slack.env.drain()
        assert response.status_code < 500, body

    run()
