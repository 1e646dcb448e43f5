"""Schema-driven fuzzing of the progress API with schemathesis: no 500s, and every answer
matches what /api/v1/openapi.json promises (status codes, content types, body schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
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
from sqlalchemy.orm import Session

from app.bootstrap import Container
from app.services.links import attach
from app.services.tenancy import tokens
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
