"""The application factory."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path

import flask

from textrec_core.predictor import Predictor
from textrec_web.corrections import CorrectionStore
from textrec_web.drift import DriftMonitor
from textrec_web.errors import register_error_handlers
from textrec_web.low_confidence import LowConfidenceStore
from textrec_web.metrics import ServiceMetrics, multiprocess_folder
from textrec_web.model import ServedModel
from textrec_web.monitoring import elapsed, install_request_tracking
from textrec_web.routes import register_routes
from textrec_web.settings import Settings


def create_app(
    predictor_or_bundle_path: Predictor | str | os.PathLike[str], settings: Settings | None = None
) -> flask.Flask:
    """A Flask app serving one model: a predictor, or the bundle at a path, loaded now, once.

    ``settings`` defaults to ``Settings()`` (the defaults; the environment is read only by the
    entry points, through ``Settings.from_env``). Loading errors propagate: textrec's
    ``BundleError`` or ``UnknownComponentError``, and a ``SettingsError`` for a corrections or
    low-confidence folder that cannot be written. Logging is not configured here (see
    :func:`textrec_web.monitoring.configure_logging`).

    The drift window lives in the multiprocess metrics folder where prometheus_client runs in
    multiprocess mode (:mod:`textrec_web.metrics`: shared by gunicorn's workers), else in a
    temporary folder of this app's own, removed with the app.
    """
    settings = settings if settings is not None else Settings()
    model = ServedModel.load(predictor_or_bundle_path)
    corrections = CorrectionStore.from_settings(settings)
    low_confidence = LowConfidenceStore.from_settings(settings)
    app = flask.Flask("textrec_web")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    shared = multiprocess_folder()
    if shared is not None:
        folder = Path(shared)
    else:
        folder = Path(tempfile.mkdtemp(prefix="textrec-web-"))
        weakref.finalize(app, shutil.rmtree, folder, True)
    drift = DriftMonitor(model, folder, settings.drift_window, settings.drift_threshold)
    metrics = ServiceMetrics(model, drift, shared)
    install_request_tracking(app, model.version)
    register_error_handlers(app)
    register_routes(app, model, settings, corrections=corrections, low_confidence=low_confidence, drift=drift,
                    metrics=metrics)
    endpoints = frozenset(rule.rule for rule in app.url_map.iter_rules() if "<" not in rule.rule)

    @app.after_request
    def count(response: flask.Response) -> flask.Response:
        path = flask.request.path
        metrics.observe_request(path if path in endpoints else "other", flask.request.method, response.status_code,
                                elapsed())
        return response

    @app.after_request
    def no_sniffing(response: flask.Response) -> flask.Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app
