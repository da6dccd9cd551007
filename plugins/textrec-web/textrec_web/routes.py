"""The HTTP endpoints: ``POST|GET /v1/predict``, ``POST /v1/corrections``, ``GET /healthz``, the page
at ``GET /``, and the monitoring endpoints ``GET /metrics``, ``GET /v1/drift`` and ``GET /status``.

``POST /v1/predict`` takes an image (the forms of :mod:`textrec_web.inputs`) and answers
``{"pred": text, "conf": confidence, "request_id": id, "model_version": digest}``, plus
``"agreement"`` (how much the members agree, in [0, 1]) when the model is an ensemble; each
prediction feeds the metrics, the drift window and, below the threshold, the low-confidence store.
``POST /v1/corrections`` takes an image the same ways and the text it holds, stores them as a
labeled line (:mod:`textrec_web.corrections`) and answers 201 ``{"line_id": id, "text": the text
as stored}``; with corrections off it answers 403 ``corrections_off``. ``GET /metrics`` answers
Prometheus' text format (:mod:`textrec_web.metrics`), ``GET /v1/drift`` the drift report
(:mod:`textrec_web.drift`) and ``GET /status`` both as a page. Refusals are JSON errors
(:mod:`textrec_web.errors`).
"""

from __future__ import annotations

from importlib import resources

import flask

from textrec_web import status_page
from textrec_web.corrections import CorrectionStore, check_text
from textrec_web.drift import DriftMonitor
from textrec_web.errors import ApiError
from textrec_web.imaging import decode_image
from textrec_web.inputs import correction_text, image_from_body, image_from_url
from textrec_web.low_confidence import LowConfidenceStore
from textrec_web.metrics import ServiceMetrics
from textrec_web.model import ServedModel
from textrec_web.monitoring import record, request_id
from textrec_web.settings import Settings, env_name

#: The page may use only itself: inline script and style, images from data: and blob: URLs.
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "img-src data: blob:; connect-src 'self'; form-action 'none'; base-uri 'none'")


def register_routes(app: flask.Flask, model: ServedModel, settings: Settings, *, corrections: CorrectionStore | None,
                    low_confidence: LowConfidenceStore | None, drift: DriftMonitor, metrics: ServiceMetrics) -> None:
    """Add the service's endpoints to ``app``, serving ``model`` under ``settings``, storing
    corrections in ``corrections`` and keeping low-confidence inputs in ``low_confidence`` (None:
    off), measuring drift with ``drift`` and counting in ``metrics``."""
    page = resources.files("textrec_web").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.route("/v1/predict", methods=["GET", "POST"], endpoint="predict")
    def predict() -> flask.Response:
        if flask.request.method == "GET":
            data, source = image_from_url(settings), "url"
        else:
            data, source = image_from_body()
        record(source=source, bytes=len(data))
        image = decode_image(data, settings)
        mean_intensity = float(image.mean()) / 255
        record(width=image.shape[1], height=image.shape[0], mean_intensity=round(mean_intensity, 4))
        metrics.observe_input(image.shape[1], image.shape[0], mean_intensity)
        reading = model.predict(image)
        record(conf=round(reading.confidence, 4), pred_length=len(reading.text))
        metrics.observe_confidence(reading.confidence)
        drift.observe(reading)
        kept = low_confidence.keep(image, reading.text, reading.confidence) if low_confidence is not None else None
        if kept is not None:
            outcome, line_id = kept
            record(low_confidence=outcome, **({"low_confidence_line_id": line_id} if line_id is not None else {}))
            metrics.observe_low_confidence(outcome)
        answer = {"pred": reading.text, "conf": reading.confidence}
        if reading.agreement is not None:
            record(agreement=round(reading.agreement, 4))
            answer["agreement"] = reading.agreement
        return flask.jsonify({**answer, "request_id": request_id(), "model_version": model.version})

    @app.post("/v1/corrections", endpoint="correct")
    def correct() -> tuple[flask.Response, int]:
        if corrections is None:
            raise ApiError(403, "corrections_off", "corrections are off on this server; an operator can turn them on "
                           f"by starting it with {env_name('corrections_dir')}=FOLDER (textrec-serve "
                           "--corrections-dir FOLDER)")
        data, source = image_from_body()
        record(source=source, bytes=len(data))
        text = check_text(correction_text())
        image = decode_image(data, settings)
        record(width=image.shape[1], height=image.shape[0])
        line_id = corrections.add(image, text)
        record(line_id=line_id)
        return flask.jsonify({"line_id": line_id, "text": text}), 201

    @app.get("/healthz", endpoint="healthz")
    def healthz() -> flask.Response:
        return flask.jsonify({"status": "ready", "model": model.identity, "corrections": corrections is not None})

    @app.get("/metrics", endpoint="metrics")
    def metrics_text() -> flask.Response:
        body, content_type = metrics.exposition(flask.request.headers.get("Accept"))
        return flask.Response(body, content_type=content_type)

    @app.get("/v1/drift", endpoint="drift")
    def drift_report() -> flask.Response:
        return flask.jsonify(drift.report())

    @app.get("/status", endpoint="status")
    def status() -> flask.Response:
        below = low_confidence.below if low_confidence is not None else None
        html = status_page.render(model.identity, drift.report(), corrections is not None, below)
        response = flask.Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = status_page.STATUS_POLICY
        return response

    @app.get("/", endpoint="page")
    def index() -> flask.Response:
        response = flask.Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response
