"""What a request sends: its image (in the body, or by URL) and, for a correction, its text.

``POST /v1/predict`` and ``POST /v1/corrections`` take the image as (by ``Content-Type``):

- ``application/json``: ``{"image": "data:image/png;base64,..."}`` (or bare base64), or, for a
  prediction, a JSON string holding the same;
- ``text/plain``: the base64 or data URL itself;
- ``multipart/form-data``: an uploaded file in the field ``file``;
- ``image/*``: the image's bytes.

A correction's text is the JSON object's ``"text"``, the multipart form's field ``text``, or,
with a body that is only the image (``text/plain``, ``image/*``), the query parameter ``?text=``.
Every refusal is an :class:`~textrec_web.errors.ApiError`.
"""

from __future__ import annotations

import json
from typing import Any

import flask

from textrec_web.errors import ApiError
from textrec_web.fetch import fetch_image
from textrec_web.imaging import decode_base64
from textrec_web.settings import Settings, env_name

ACCEPTED_TYPES = "application/json, text/plain (base64), multipart/form-data (field \"file\") or image/*"


def image_from_body() -> tuple[bytes, str]:
    """The image bytes of a ``POST`` and the form they came in (``json``, ``base64``, ``upload``, ``raw``)."""
    request = flask.request
    mimetype = request.mimetype
    if is_json(mimetype):
        return decode_base64(image_field(json_body())), "json"
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


def is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def json_body() -> Any:
    """The request's body parsed as JSON, once per request (``invalid_json``, 400, when it does not parse)."""
    if "json_body" not in flask.g:
        try:
            flask.g.json_body = json.loads(flask.request.get_data())
        except (ValueError, RecursionError):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    return flask.g.json_body


def image_field(payload: Any) -> str:
    """The base64 text of a JSON body: its ``"image"`` field, or the body itself when it is a string."""
    if isinstance(payload, dict):
        if "image" not in payload:
            raise ApiError(400, "missing_field", 'the JSON object has no "image" field')
        payload = payload["image"]
    if not isinstance(payload, str):
        raise ApiError(400, "invalid_field", 'the image must be a JSON string: a data URL '
                       '("data:image/png;base64,...") or base64, as {"image": "..."}')
    return payload


def correction_text() -> str:
    """A correction's text, from where its request's ``Content-Type`` puts it (see the module docstring):
    ``missing_field`` (400) when it is not there, ``invalid_field`` (400) when it is not a string."""
    request = flask.request
    if is_json(request.mimetype):
        payload = json_body()
        if not isinstance(payload, dict) or "text" not in payload:
            raise ApiError(400, "missing_field", 'the JSON object has no "text" field: send '
                           '{"image": "...", "text": "the corrected reading"}')
        text = payload["text"]
    elif request.mimetype == "multipart/form-data":
        text = request.form.get("text")
        if text is None:
            raise ApiError(400, "missing_field", 'the multipart form has no "text" field holding the corrected reading')
    else:
        text = request.args.get("text")
        if text is None:
            raise ApiError(400, "missing_field", "give the corrected reading as ?text=... (or send JSON with "
                           '"image" and "text")')
    if not isinstance(text, str):
        raise ApiError(400, "invalid_field", 'the text must be a JSON string, as {"text": "..."}')
    return text


def image_from_url(settings: Settings) -> bytes:
    """The bytes at ``?image_url=``, when the settings allow fetching (else ``image_url_disabled``, 403)."""
    if not settings.allow_image_url:
        raise ApiError(403, "image_url_disabled", "this server does not fetch images by URL; POST the image instead "
                       f"(an operator can allow it with {env_name('allow_image_url')})")
    url = flask.request.args.get("image_url")
    if not url:
        raise ApiError(400, "missing_field", "give the image's address as ?image_url=...")
    return fetch_image(url, settings)
