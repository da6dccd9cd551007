"""Request ids, the model version header and the structured log: one JSON object per line on the
logger ``textrec.web``.

Each request gets an id: the incoming ``X-Request-Id`` header when it is sane (1 to 128 of
``A-Z a-z 0-9 . _ : -``), else a fresh random one; the id is sent back as ``X-Request-Id`` and
quoted in error bodies. Every response, errors too, also carries ``X-Model-Version``: the served
bundle's digest. Each request to ``/v1/predict``, answered or refused, logs exactly one
line ``{"event": "predict", ...}`` (fields in :func:`request_line`), and each request to
``/v1/corrections`` one line ``{"event": "correction", ...}`` (the same fields as far as they
apply, and the stored ``line_id``; never the text); an unexpected exception logs one
``{"event": "error", ...}`` line holding its traceback. (Drift crossings log their own lines:
:mod:`textrec_web.drift`.)
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import flask

LOGGER_NAME = "textrec.web"
REQUEST_ID_HEADER = "X-Request-Id"
MODEL_VERSION_HEADER = "X-Model-Version"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: Endpoints whose every request logs a line, and the line's event.
LOGGED_ENDPOINTS = {"predict": "predict", "correct": "correction"}

log = logging.getLogger(LOGGER_NAME)


def request_id() -> str | None:
    """The current request's id (``None`` outside a request)."""
    return flask.g.get("request_id") if flask.has_request_context() else None


def record(**fields: Any) -> None:
    """Add ``fields`` to the current request's log line (``predict`` or ``correction``)."""
    flask.g.setdefault("monitor", {}).update(fields)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one JSON line: time, ``event``, the request id (inside a request), then ``fields``."""
    line = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event}
    if request_id() is not None:
        line["request_id"] = request_id()
    line.update(fields)
    log.log(level, json.dumps(line, default=str))


def request_line(status: int) -> dict[str, Any]:
    """A request's log line fields: ``method``, ``status``, ``latency_ms`` (request start to
    answer), ``error`` (the error code, refused requests only) and what :func:`record` added:
    ``source``, ``bytes``, ``width``, ``height``, then for a prediction ``mean_intensity``, ``conf``,
    ``pred_length`` (and ``agreement``, and ``low_confidence`` with ``low_confidence_line_id`` where
    low-confidence inputs are kept), for a correction ``line_id``."""
    g = flask.g
    fields: dict[str, Any] = {"method": flask.request.method, "status": status,
                              "latency_ms": round(elapsed() * 1000, 2)}
    if g.get("error_code"):
        fields["error"] = g.error_code
    fields.update(g.get("monitor", {}))
    return fields


def elapsed() -> float:
    """Seconds since the current request arrived in the app."""
    return time.perf_counter() - flask.g.started


def install_request_tracking(app: flask.Flask, model_version: str) -> None:
    """Give each request of ``app`` an id, answer every one with it and ``model_version``, and log a
    line for each prediction and correction request."""

    @app.before_request
    def start() -> None:
        incoming = flask.request.headers.get(REQUEST_ID_HEADER, "")
        flask.g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        flask.g.started = time.perf_counter()

    @app.after_request
    def finish(response: flask.Response) -> flask.Response:
        if flask.g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = flask.g.request_id
        response.headers[MODEL_VERSION_HEADER] = model_version
        event = LOGGED_ENDPOINTS.get(flask.request.endpoint or "")
        if event and "started" in flask.g:
            log_event(event, **request_line(response.status_code))
        return response


def configure_logging() -> None:
    """Send ``textrec.web`` lines, bare, to stderr at level INFO (for the entry points, not the factory)."""
    if not any(getattr(h, "textrec_web", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.textrec_web = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
