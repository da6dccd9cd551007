"""The HTTP endpoints: ``POST|GET /v1/predict``, ``GET /healthz`` and the page at ``GET /``.

``POST /v1/predict`` takes the image as (by ``Content-Type``):

- ``application/json``: ``{"image": "data:image/png;base64,..."}`` (or bare base64), or a JSON
  string holding the same;
- ``text/plain``: the base64 or data URL itself;
- ``multipart/form-data``: an uploaded file in the field ``file``;
- ``image/*``: the image's bytes.

It answers ``{"pred": text, "conf": confidence}``, plus ``"agreement"`` (how much the members agree,
in [0, 1]) when the model is an ensemble; refusals are JSON errors (:mod:`textrec_web.errors`).
"""

from __future__ import annotations

import json
from importlib import resources

import flask

from textrec_web.errors import ApiError
from textrec_web.fetch import fetch_image
from textrec_web.imaging import decode_base64, decode_image
from textrec_web.model import ServedModel
from textrec_web.monitoring import record
from textrec_web.settings import Settings, env_name

ACCEPTED_TYPES = "application/json, text/plain (base64), multipart/form-data (field \"file\") or image/*"
#: The page may use only itself: inline script and style, images from data: and blob: URLs.
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "img-src data: blob:; connect-src 'self'; form-action 'none'; base-uri 'none'")


def register_routes(app: flask.Flask, model: ServedModel, settings: Settings) -> None:
    """Add the service's endpoints to ``app``, serving ``model`` under ``settings``."""
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

    @app.get("/healthz", endpoint="healthz")
    def healthz() -> flask.Response:
        return flask.jsonify({"status": "ready", "model": model.identity})

    @app.get("/", endpoint="page")
    def index() -> flask.Response:
        response = flask.Response(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        return response


def image_from_body() -> tuple[bytes, str]:
    """The image bytes of a ``POST`` and the form they came in (``json``, ``base64``, ``upload``, ``raw``)."""
    request = flask.request
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return decode_base64(image_field(request.get_data())), "json"
    if mimetype == "text/plain":
        try:
            return decode_base64(request.get_data().decode("ascii")), "base64"
        except UnicodeDecodeError:
            message = "the text/plain body is not base64 (it has non-ASCII bytes)"
            raise ApiError(400, "invalid_base64", message) from None
    if mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "missing_field", 'the multipart form has no "file" field holding the image')
        return upload.read(), "upload"
    if mimetype.startswith("image/"):
        return request.get_data(), "raw"
    got = f"Content-Type {mimetype!r}" if mimetype else "no Content-Type"
    raise ApiError(415, "unsupported_media_type", f"send the image as {ACCEPTED_TYPES}; got {got}")


def image_field(body: bytes) -> str:
    """The base64 text of a JSON body: its ``"image"`` field, or the body itself when it is a string."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    if isinstance(payload, dict):
        if "image" not in payload:
            raise ApiError(400, "missing_field", 'the JSON object has no "image" field')
        payload = payload["image"]
    if not isinstance(payload, str):
        raise ApiError(400, "invalid_field", 'the image must be a JSON string: a data URL '
                       '("data:image/png;base64,...") or base64, as {"image": "..."}')
    return payload


def image_from_url(settings: Settings) -> bytes:
    """The bytes at ``?image_url=``, when the settings allow fetching (else ``image_url_disabled``, 403)."""
    if not settings.allow_image_url:
        raise ApiError(403, "image_url_disabled", "this server does not fetch images by URL; POST the image instead "
                       f"(an operator can allow it with {env_name('allow_image_url')})")
    url = flask.request.args.get("image_url")
    if not url:
        raise ApiError(400, "missing_field", "give the image's address as ?image_url=...")
    return fetch_image(url, settings)
