"""What tests of a running textrec web service share: a tiny line model to serve, lines it reads,
plain HTTP requests, and the battery of bad requests every deployment must refuse.

The plugin's own server tests and the container tests (``deploy/tests``) use it. Training the tiny
model needs the textrec-emnist-lines and textrec-line-cnn plugins (textrec-web's ``test`` extra).
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import re
import socket
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from PIL import Image

from textrec_core.cli import main as textrec_run

#: The tiny model's dataset: offline synthetic lines of at most 8 characters.
TINY_DATASET_ARGS = {"max_length": 8, "max_overlap": 0.0, "num_train": 300, "num_val": 300, "num_test": 300,
                     "char_source": "synthetic", "text_source": "builtin"}
#: The tiny model: a line CNN trained for one epoch (seconds on one thread).
TINY_LINE_MODEL = {"dataset": "emnist_lines", "dataset_args": TINY_DATASET_ARGS, "model": "LineModel",
                   "network": "line_cnn_all_conv", "train_args": {"epochs": 1, "batch_size": 32}}
#: The request body limit (``TEXTREC_WEB_MAX_REQUEST_BYTES``) of a server under :func:`bad_requests`:
#: 256 KiB, not the default 2 MiB, so that the oversized body the battery sends fits in loopback's
#: socket buffers while the server refuses it unread (else the client sees a reset, not the 413).
MAX_REQUEST_BYTES = 256 * 1024
#: An ``X-Model-Version`` header: a bundle's digest.
MODEL_VERSION = re.compile(r"[0-9a-f]{16}")


def train_tiny_line_model(runs: Path) -> Path:
    """Train :data:`TINY_LINE_MODEL` with its run folder in the empty folder ``runs``, on one torch
    thread with wandb disabled; returns the saved bundle's path. Changes no process setting for good."""
    saved = {name: os.environ.get(name) for name in ("TEXTREC_RUNS_DIR", "WANDB_MODE")}
    threads = torch.get_num_threads()
    os.environ.update(TEXTREC_RUNS_DIR=str(runs), WANDB_MODE="disabled")
    torch.set_num_threads(1)
    try:
        if textrec_run(["--save", "--quiet", json.dumps(TINY_LINE_MODEL)]) != 0:
            raise RuntimeError(f"training {TINY_LINE_MODEL} failed")
    finally:
        torch.set_num_threads(threads)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    (run,) = runs.iterdir()
    return run / "model"


def tiny_model_test_lines(count: int) -> list[bytes]:
    """The first ``count`` lines (at most 300) of the tiny model's test split as PNG files, dark ink
    on white as scanned: inputs like those it was trained on."""
    from textrec_emnist_lines import EmnistLinesDataset

    dataset = EmnistLinesDataset(**TINY_DATASET_ARGS)
    dataset.prepare()
    lines: list[bytes] = []
    for images, _ in dataset.test.batches(100):
        lines += [png_bytes(255 - (image * 255).round().astype(np.uint8)) for image in images.numpy()]
        if len(lines) >= count:
            break
    return lines[:count]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 gray image as a PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def with_png_size(png: bytes, width: int, height: int) -> bytes:
    """``png`` with its header (IHDR) claiming ``width`` x ``height``, its pixel data unchanged."""
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]


class BadRequest(NamedTuple):
    """A request to ``POST /v1/predict`` and the JSON error it must get."""

    body: bytes
    content_type: str
    status: int
    code: str


def bad_requests(png: bytes) -> dict[str, BadRequest]:
    """The battery: name -> request, built around ``png``, a line the server reads. The server's body
    limit must be :data:`MAX_REQUEST_BYTES`."""
    json_type = "application/json"
    blank = png_bytes(np.full((28, 100), 255, dtype=np.uint8))
    bomb = png_bytes(np.zeros((6000, 6000), dtype=np.uint8))  # 36 MB of pixels in about 40 kB
    return {
        "not_json": BadRequest(b"{image: oops", json_type, 400, "invalid_json"),
        "deeply_nested_json": BadRequest(b"[" * 100_000, json_type, 400, "invalid_json"),
        "missing_field": BadRequest(json.dumps({"img": b64(png)}).encode(), json_type, 400, "missing_field"),
        "field_not_a_string": BadRequest(json.dumps({"image": [1, 2]}).encode(), json_type, 400, "invalid_field"),
        "invalid_base64": BadRequest(json.dumps({"image": "data:image/png;base64,@@@@"}).encode(), json_type, 400,
                                     "invalid_base64"),
        "data_url_not_base64": BadRequest(json.dumps({"image": "data:image/png,abcd"}).encode(), json_type, 400,
                                          "invalid_base64"),
        "text_not_ascii": BadRequest("ïmage".encode(), "text/plain", 400, "invalid_base64"),
        "not_an_image": BadRequest(json.dumps({"image": b64(b"hello, world")}).encode(), json_type, 400,
                                   "not_an_image"),
        "truncated_png": BadRequest(png[: len(png) // 2], "image/png", 400, "invalid_image"),
        "empty_bytes": BadRequest(b"", "image/png", 400, "empty_image"),
        "empty_base64": BadRequest(json.dumps({"image": ""}).encode(), json_type, 400, "empty_image"),
        "zero_by_zero": BadRequest(with_png_size(png, 0, 0), "image/png", 400, "not_an_image"),
        "blank": BadRequest(blank, "image/png", 400, "blank_image"),
        "decompression_bomb": BadRequest(bomb, "image/png", 413, "image_too_large"),
        "header_claims_huge": BadRequest(with_png_size(png, 100_000, 100_000), "image/png", 413, "image_too_large"),
        "side_too_long": BadRequest(with_png_size(png, 9000, 28), "image/png", 413, "image_too_large"),
        "too_many_bytes": BadRequest(png + bytes(MAX_REQUEST_BYTES), "image/png", 413, "request_too_large"),
        "form_urlencoded": BadRequest(b"image=abc", "application/x-www-form-urlencoded", 415,
                                      "unsupported_media_type"),
        "no_content_type": BadRequest(png, "", 415, "unsupported_media_type"),
    }


#: The names of :func:`bad_requests`' battery, to parametrize tests with.
BAD_REQUEST_NAMES = list(bad_requests(png_bytes(np.zeros((1, 1), dtype=np.uint8))))


@dataclass
class Reply:
    """An HTTP answer; header names in lower case."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    """A port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
    """One request to ``127.0.0.1:port`` on a connection of its own."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def send_bad_request(port: int, request: BadRequest) -> Reply:
    """``request`` sent to ``POST /v1/predict`` on ``127.0.0.1:port``."""
    headers = {"Content-Type": request.content_type} if request.content_type else {}
    return http_request(port, "POST", "/v1/predict", request.body, headers)


def assert_refused(port: int, request: BadRequest) -> dict:
    """Send ``request`` to ``127.0.0.1:port`` and check it gets its JSON error; returns the error object."""
    return assert_json_error(send_bad_request(port, request), request.status, request.code)


def assert_json_error(reply: Reply, status: int, code: str) -> dict:
    """Check that ``reply`` is the service's JSON error ``code`` with ``status``, naming the request
    and the model, with no traceback; returns the error object."""
    assert reply.status == status, reply.body
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in reply.body.decode()
    assert error["request_id"] == reply.headers["x-request-id"]
    assert MODEL_VERSION.fullmatch(reply.headers["x-model-version"])
    return error
