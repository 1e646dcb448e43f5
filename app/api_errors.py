"""JSON replies and errors for the machine-facing HTTP surface (progress API and webhooks).

Every error is ``{"error": {"code": ..., "message": ..., "field": ...}}``; ``field`` names the
offending input when there is one. No stack trace ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Path prefixes whose errors are JSON even when routing fails before any view runs.
JSON_PREFIXES = ("/api/", "/webhooks/")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large",
          415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
          500: "internal_error", 503: "unavailable"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.field = field


def json_response(body: Mapping[str, Any], status: int = 200) -> Response:
    """``body`` as JSON, with this status."""
    response = jsonify(body)
    response.status_code = status
    return response


def error_response(status: int, message: str, *, code: str | None = None,
                   field: str | None = None) -> Response:
    body: dict[str, object] = {"code": code or _CODES.get(status, "error"), "message": message}
    if field is not None:
        body["field"] = field
    response = json_response({"error": body}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="okr"'
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def install(bp: Blueprint) -> None:
    """JSON error handlers for a blueprint, plus app-wide ones limited to JSON_PREFIXES."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, code=exc.code, field=exc.field)

    @bp.errorhandler(SQLAlchemyError)
    def _db_error(exc: SQLAlchemyError) -> Response:
        log.warning("http.db_unavailable", extra={"path": request.path,
                                                   "error": type(exc).__name__})
        return error_response(503, "the database is not answering; try again shortly")

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | HTTPException:
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("http.unexpected_error", extra={"path": request.path})
        return error_response(500, "something went wrong on our side; it has been logged")

    @bp.app_errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | HTTPException:
        if not request.path.startswith(JSON_PREFIXES):
            return exc
        status = exc.code or 500
        message = {404: "no such resource", 405: f"{request.method} is not allowed here",
                   413: "the request body is too large"}.get(status, exc.description or "")
        response = error_response(status, message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response
