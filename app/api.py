"""The progress API under ``/api/v1``: CI jobs, BI tools and spreadsheets push metric values.

Authenticated with a per-workspace token (``Authorization: Bearer okr_...``, made with
``okr token create``); reads need its ``read`` scope (private objectives and notes
``read:private``), check-ins its ``checkin`` scope, and an expired token is a 401.
Described by ``/api/v1/openapi.json`` (``app/openapi.yaml``, kept next to this code and
checked against it by the tests). Errors are JSON:
``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.api_errors import ApiError, install, json_response
from app.bootstrap import Container, utcnow
from app.config import ScoringSettings
from app.db import unit_of_work
from app.domain import CheckinAnswer, CheckinSource, KRType
from app.models import ApiToken, Checkin, KeyResult
from app.services.checkins import record as checkins
from app.services.errors import CycleClosed, InvalidValue, NotFound
from app.services.okrs import json_views
from app.services.tenancy import retention, tokens
from app.services.text import text_problem

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
CHECKIN_FIELDS = ("value", "score", "status", "confidence", "note", "blockers")
MAX_BODY = 64 * 1024
MAX_IDEMPOTENCY_KEY = 100
MAX_KEY = 100  # key results' and objectives' keys (the column's length)


@cache
def openapi_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(422, f"{name} is a number", field=name)
    try:
        number = float(value)  # an integer of hundreds of digits overflows
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ApiError(422, f"{name} is a finite number", field=name)
    return number


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, f"{name} is a string", field=name)
    return value


def parse_checkin(body: Any, kr: KeyResult) -> CheckinAnswer:
    """Shape-check a check-in body against the KR's type; the service checks the values."""
    if not isinstance(body, dict):
        raise ApiError(422, "the body is a JSON object such as {\"value\": 42}")
    unknown = sorted(set(body) - set(CHECKIN_FIELDS))
    if unknown:
        raise ApiError(422, f"unknown field {unknown[0][:40]!r}; fields are "
                            f"{', '.join(CHECKIN_FIELDS)}", field=unknown[0][:100])
    value, score = _number(body, "value"), _number(body, "score")
    kr_type = KRType(kr.kr_type)
    if value is not None and not kr_type.takes_value:
        raise ApiError(422, f"{kr.key} is a {kr_type.value} key result and takes no value",
                       field="value")
    if score is not None and kr_type != KRType.MANUAL:
        raise ApiError(422, f"only manual key results take a score; send value for {kr.key}",
                       field="score")
    data = CheckinAnswer(
        kr_key=kr.key, value=value, score=score, status=_text(body, "status"),
        confidence=_text(body, "confidence"), note=_text(body, "note"),
        blockers=_text(body, "blockers"),
    )
    if not kr_type.takes_value and kr_type != KRType.MANUAL and not any(
            (data.status, data.confidence, data.note, data.blockers)):
        raise ApiError(422, f"{kr.key} moves by itself ({kr_type.value}); send a status, "
                            "confidence, note or blockers")
    return data


def _json_body() -> Any:
    request.max_content_length = MAX_BODY
    if request.mimetype != "application/json":
        raise ApiError(415, "send the body as application/json")
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "the body is not valid JSON") from exc


def _idempotency_key(kr: KeyResult) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not raw.strip() or len(raw) > MAX_IDEMPOTENCY_KEY or not raw.isprintable():
        raise ApiError(422, f"Idempotency-Key is 1 to {MAX_IDEMPOTENCY_KEY} printable characters",
                       field="Idempotency-Key")
    # Scoped to the KR so one client's keys never collide with another KR's check-ins.
    return f"api:{kr.id}:{raw.strip()}"


def _plausible_key(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A key in the path that no key result or objective can have is a 404 before any query
    (PostgreSQL refuses NUL characters in text: that would be an error, not an answer)."""
    key = (values or {}).get("key")
    if key is not None and (len(key) > MAX_KEY or not key.isprintable()
                            or text_problem(key) is not None):
        raise ApiError(404, "no such key result or objective in this workspace")


def _authorize(session: Session, now: datetime) -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "send Authorization: Bearer <token> (see `okr token create`)")
    try:
        token = tokens.verify(session=session, secret=secret.strip(), now=now)
    except tokens.TokenExpired as exc:
        raise ApiError(401, str(exc), code="token_expired") from exc
    if token is None:
        raise ApiError(401, "the token is unknown or revoked")
    if retention.is_disabled(session=session, workspace_id=token.workspace_id):
        raise ApiError(403, retention.DISABLED, code="workspace_disabled")
    return token


def _require(token: ApiToken, scope: str) -> None:
    if scope not in tokens.scopes_of(token):
        raise ApiError(403, f"this token lacks the {scope} scope: create one with "
                            f"`okr token create NAME --scope {scope}`", code="insufficient_scope")


def _private(token: ApiToken) -> bool:
    """Whether the token sees private objectives and what people wrote."""
    return tokens.READ_PRIVATE in tokens.scopes_of(token)


@contextmanager
def _found() -> Iterator[None]:
    """A key result or objective that is not there (in the token's workspace) is a 404."""
    try:
        yield
    except NotFound as exc:
        raise ApiError(404, str(exc)) from exc


def _record_checkin(session: Session, token: ApiToken, key: str, now: datetime,
                    settings: ScoringSettings) -> tuple[dict[str, Any], bool]:
    """Record the posted check-in once; returns the reply body and whether it was a replay.

    The reply carries the key result only for a token that may read it."""
    _require(token, tokens.CHECKIN)
    private = _private(token)
    with _found():
        kr = json_views.kr_for_update(session=session, workspace_id=token.workspace_id, key=key,
                                      private=private)
    body = _json_body()
    idem = _idempotency_key(kr)
    if idem is not None:
        # Requests with one key queue on the KR's row (PostgreSQL; SQLite's BEGIN IMMEDIATE
        # already serialises writers): the ones after the first find its check-in and replay
        # it, instead of racing it to the insert.
        session.refresh(kr, with_for_update=True)
    row = None if idem is None else session.scalars(select(Checkin).where(
        Checkin.workspace_id == token.workspace_id, Checkin.idempotency_key == idem
    )).first()
    replay = row is not None
    if row is None:
        data = parse_checkin(body, kr)
        try:
            row = checkins.record(
                session=session, workspace_id=token.workspace_id, kr=kr, data=data,
                author_id=None, actor_label=f"api:{token.name}"[:64],
                source=CheckinSource.API, now=now, idempotency_key=idem)
        except InvalidValue as exc:
            raise ApiError(422, exc.message, field=exc.field) from exc
        except CycleClosed as exc:
            raise ApiError(409, str(exc), code="cycle_closed") from exc
    session.flush()
    out: dict[str, Any] = {"checkin": json_views.checkin_dict(row, private=private)}
    if tokens.READ in tokens.scopes_of(token):
        out["key_result"] = json_views.key_result(
            session=session, workspace_id=token.workspace_id, key=kr.key, now=now,
            settings=settings, private=private)
    return out, replay


def blueprint(container: Container, *, clock: Callable[[], datetime] = utcnow) -> Blueprint:
    bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
    install(bp)
    bp.url_value_preprocessor(_plausible_key)
    scoring_settings = container.settings.scoring

    @contextmanager
    def authorized() -> Iterator[tuple[Session, ApiToken, datetime]]:
        """One transaction for the request's token, at one instant."""
        now = clock()
        with unit_of_work(container.session_factory) as session:
            yield session, _authorize(session, now), now

    def read(view: Callable[..., dict[str, Any]], key: str) -> Response:
        with authorized() as (session, token, now), _found():
            _require(token, tokens.READ)
            body = view(session=session, workspace_id=token.workspace_id, key=key, now=now,
                        settings=scoring_settings, private=_private(token))
        return json_response(body)

    @bp.get("/openapi.json")
    def openapi() -> Response:
        return json_response(openapi_document())

    @bp.get("/key-results/<key>")
    def get_key_result(key: str) -> Response:
        return read(json_views.key_result, key)

    @bp.get("/objectives/<key>")
    def get_objective(key: str) -> Response:
        return read(json_views.objective, key)

    @bp.post("/key-results/<key>/checkins")
    def post_checkin(key: str) -> Response:
        with authorized() as (session, token, now):
            out, replay = _record_checkin(session, token, key, now, scoring_settings)
        response = json_response(out, 200 if replay else 201)
        if replay:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    return bp
