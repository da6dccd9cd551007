"""The HTTP endpoints: ``POST|GET /v1/predict``, ``POST /v1/corrections``, ``GET /healthz`` and the
page at ``GET /``.

``POST /v1/predict`` takes an image (the forms of :mod:`textrec_web.inputs`) and answers
``{"pred": text, "conf": confidence}``, plus ``"agreement"`` (how much the members agree, in
[0, 1]) when the model is an ensemble. ``POST /v1/corrections`` takes an image the same ways and
the text it holds, stores them as a labeled line (:mod:`textrec_web.corrections`) and answers 201
``{"line_id": id, "text": the text as stored}``; with corrections off it answers 403
``corrections_off``. Refusals are JSON errors (:mod:`textrec_web.errors`).
"""

from __future__ import annotations

from importlib import resources

import flask

from textrec_web.corrections import CorrectionStore, check_text
from textrec_web.errors import ApiError
from textrec_web.imaging import decode_image
from textrec_web.inputs import correction_text, image_from_body, image_from_url
from textrec_web.model import ServedModel
from textrec_web.monitoring import record
from textrec_web.settings import Settings, env_name

#: The page may use only itself: inline script and style, images from data: and blob: URLs.
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "img-src data: blob:; connect-src 'self'; form-action 'none'; base-uri 'none'")


def register_routes(app: flask.Flask, model: ServedModel, settings: Settings,
                    corrections: CorrectionStore | None) -> None:
    """Add the service's endpoints to ``app``, serving ``model`` under ``settings`` and storing
    corrections in ``corrections`` (None: corrections are off)."""
    page = resources.files("textrec_web").joinpath("static/index.html").read_text(encoding="utf-8")

    @app.route("/v1/predict", methods=["GET", "POST"], endpoint="predict")
    def predict() -> flask.Response:
        if flask.request.method == "GET":
            data, source = image_from_url(settings), "url"
        else:
            data, source = image_from_body()
        record(source=source, bytes=len(data))
        image = decode_image(data, settings)
        record(width=image.shape[1], height=image.shape[0], mean_intensity=round(float(image.mean()) / 255, 4))
        text, conf, agreement = model.predict(image)
        record(conf=round(conf, 4), pred_length=len(text))
        if agreement is None:
            return flask.jsonify({"pred": text, "conf": conf})
        record(agreement=round(agreement, 4))
        return flask.jsonify({"pred": text, "conf": conf, "agreement": agreement})

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

    @app.get("/", endpoint="page")
    def index() -> flask.Response:
        response = flask.Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response
