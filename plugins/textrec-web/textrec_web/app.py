"""The application factory."""

from __future__ import annotations

import os

import flask

from textrec_core.predictor import Predictor
from textrec_web.corrections import CorrectionStore
from textrec_web.errors import register_error_handlers
from textrec_web.model import ServedModel
from textrec_web.monitoring import install_request_tracking
from textrec_web.routes import register_routes
from textrec_web.settings import Settings


def create_app(
    predictor_or_bundle_path: Predictor | str | os.PathLike[str], settings: Settings | None = None
) -> flask.Flask:
    """A Flask app serving one model: a predictor, or the bundle at a path, loaded now, once.

    ``settings`` defaults to ``Settings()`` (the defaults; the environment is read only by the
    entry points, through ``Settings.from_env``). Loading errors propagate: textrec's
    ``BundleError`` or ``UnknownComponentError``, and a ``SettingsError`` for a corrections folder
    that cannot be written. Logging is not configured here (see
    :func:`textrec_web.monitoring.configure_logging`).
    """
    settings = settings if settings is not None else Settings()
    model = ServedModel.load(predictor_or_bundle_path)
    corrections = CorrectionStore.from_settings(settings)
    app = flask.Flask("textrec_web")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    install_request_tracking(app)
    register_error_handlers(app)
    register_routes(app, model, settings, corrections)

    @app.after_request
    def no_sniffing(response: flask.Response) -> flask.Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app
