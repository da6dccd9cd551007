"""JSON errors: every failure answers ``{"error": {"code", "message", "request_id"}}``, never a traceback.

Routes raise :class:`ApiError` for bad input; Werkzeug's HTTP errors (404, 405, 413, ...) and
unexpected exceptions (500, logged with their traceback on the server only) get the same shape.
"""

from __future__ import annotations

import logging
import traceback

import flask
from werkzeug.exceptions import HTTPException, InternalServerError

from textrec_web.monitoring import log_event, request_id

#: Codes of Werkzeug's HTTP errors where the snake-cased name is not the clearest word.
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large", 415: "unsupported_media_type"}


class ApiError(Exception):
    """A request the service refuses: ``status`` (4xx or 5xx), a stable ``code`` and a message for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> flask.Response:
    """The JSON error body with ``status``; records ``code`` for the request's log line."""
    flask.g.error_code = code
    response = flask.jsonify({"error": {"code": code, "message": message, "request_id": request_id()}})
    response.status_code = status
    return response


def register_error_handlers(app: flask.Flask) -> None:
    """Answer :class:`ApiError`, HTTP errors and unexpected exceptions of ``app`` with JSON."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> flask.Response:
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> flask.Response:
        status = exc.code or 500
        request = flask.request
        if status == 404:
            message = (f"there is nothing at {request.path}; this service answers POST /v1/predict, "
                       "POST /v1/corrections, GET /healthz, GET /, GET /metrics, GET /v1/drift, GET /status")
        elif status == 405:
            allowed = ", ".join(getattr(exc, "valid_methods", None) or ())
            message = f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
        elif status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"the request body is larger than the {limit} bytes this server accepts"
        else:
            message = exc.description or exc.name
        response = error_response(status, HTTP_CODES.get(status, exc.name.lower().replace(" ", "_")), message)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value  # e.g. Allow on 405
        return response

    @app.errorhandler(InternalServerError)
    def internal_error(exc: InternalServerError) -> flask.Response:
        original = exc.original_exception or exc
        log_event(
            "error", level=logging.ERROR, exception=type(original).__name__,
            traceback="".join(traceback.format_exception(type(original), original, original.__traceback__)),
        )
        return error_response(500, "internal_error", "the server failed to answer this request; "
                              "quote the request id when reporting it")
