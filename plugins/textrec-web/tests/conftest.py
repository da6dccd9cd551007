"""Fixtures of the web plugin's tests: a tiny line model trained offline, test lines as PNG files,
and real servers (gunicorn, textrec-serve) started as subprocesses on loopback.

The model needs the textrec-emnist-lines (with textrec-emnist, textrec-hershey), textrec-line-cnn
and textrec-lines (its ``LinePredictor``) plugins installed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from textrec_core import load_predictor
from textrec_core.predictor import Predictor
from textrec_web.testing import (
    MAX_REQUEST_BYTES,
    Reply,
    free_port,
    http_request,
    png_bytes,
    tiny_model_test_lines,
    train_tiny_line_model,
)

READY_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """The tiny line model of :mod:`textrec_web.testing`, trained for this session."""
    return train_tiny_line_model(tmp_path_factory.mktemp("web-runs"))


@pytest.fixture(scope="session")
def predictor(bundle) -> Predictor:
    """The bundle loaded in the test process, to compare the servers' answers with."""
    return load_predictor(bundle)


@dataclass(frozen=True)
class Sample:
    """A test line as a PNG file (dark ink on white, as scanned) and what the predictor reads in it."""

    png: bytes
    path: Path
    pred: str
    conf: float


@pytest.fixture(scope="session")
def samples(bundle, predictor, tmp_path_factory) -> list[Sample]:
    """Eight test lines of the bundle's dataset, with the in-process prediction of each."""
    folder = tmp_path_factory.mktemp("lines")
    result = []
    for i, png in enumerate(tiny_model_test_lines(8)):
        path = folder / f"line{i}.png"
        path.write_bytes(png)
        text, conf = predictor.predict(Image.open(io.BytesIO(png)))
        result.append(Sample(png, path, text, conf))
    return result


@pytest.fixture(scope="session")
def test_lines(bundle) -> list[bytes]:
    """Every line of the test split of the bundle's dataset (300) as PNG files, dark ink on white:
    inputs like the data the model was trained on."""
    return tiny_model_test_lines(300)


@pytest.fixture(scope="session")
def noise_images() -> list[bytes]:
    """300 PNG images of random gray noise, 28 x 224 pixels: inputs unlike any line the model saw."""
    rng = np.random.default_rng(7)
    return [png_bytes(rng.integers(0, 256, (28, 224)).astype(np.uint8)) for _ in range(300)]


@pytest.fixture(scope="session")
def to_png() -> Callable[[np.ndarray], bytes]:
    """``to_png(uint8 array) -> PNG bytes``."""
    return png_bytes


@pytest.fixture(scope="session")
def read_corrections() -> Callable[[Path], dict[str, tuple[str, np.ndarray]]]:
    """``read_corrections(folder) -> {line id: (text, image)}``: a corrections folder as
    ``IamLinesDataset(path=folder, split="all")`` reads it (images as it prepares them: 64 pixels
    high, bright ink on dark)."""
    from textrec_core.mapping import PAD
    from textrec_iam import IamLinesDataset

    def read(folder: Path) -> dict[str, tuple[str, np.ndarray]]:
        dataset = IamLinesDataset(path=str(folder), split="all")
        dataset.prepare()
        assert not len(dataset.splits["train"]) and not len(dataset.splits["val"])
        test, pad = dataset.splits["test"], dataset.mapping.index(PAD)
        return {line_id: (dataset.mapping.decode([i for i in labels.tolist() if i != pad]), image)
                for line_id, labels, image in zip(test.ids, test.labels, test.images)}

    return read


@dataclass
class Server:
    """A server process on loopback; its stderr goes to ``log_path``."""

    url: str
    process: subprocess.Popen
    log_path: Path
    port: int = field(init=False)

    def __post_init__(self) -> None:
        self.port = int(self.url.rsplit(":", 1)[1])

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 60) -> Reply:
        return http_request(self.port, method, path, body, headers, timeout)

    def post_json(self, payload: Any, headers: dict[str, str] | None = None, path: str = "/v1/predict") -> Reply:
        return self.request("POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json", **(headers or {})})

    def upload(self, data: bytes, field_name: str = "file", filename: str = "line.png", path: str = "/v1/predict",
               fields: dict[str, str] | None = None) -> Reply:
        """POST ``data`` as a multipart/form-data file upload, with the text ``fields`` before it."""
        boundary = uuid.uuid4().hex
        body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
                        for name, value in (fields or {}).items())
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines the server has logged so far (other lines, such as gunicorn's, skipped)."""
        lines = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


@pytest.fixture(scope="session")
def unused_port() -> Callable[[], int]:
    """``unused_port() -> int``: a port free on 127.0.0.1 just now."""
    return free_port


def server_env(**extra: str) -> dict[str, str]:
    """The test process's environment without TEXTREC_WEB_* settings or a metrics folder, one torch
    thread, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTREC_WEB_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost"}, **extra)
    return env


def start_server(command: list[str], env: dict[str, str], port: int, log_path: Path) -> Server:
    """Run ``command`` and wait until ``/healthz`` answers 200; fail with its log if it never does."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{' '.join(command)} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if server.request("GET", "/healthz", timeout=2).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    pytest.fail(f"{' '.join(command)} not ready after {READY_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def gunicorn_server(bundle, tmp_path_factory) -> Iterator[Server]:
    """The production set-up of docs/web.md: gunicorn, two sync workers, ``textrec_web.wsgi:app``.

    Its body limit is :data:`textrec_web.testing.MAX_REQUEST_BYTES`, which the bad requests' battery needs.
    """
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn"), TEXTREC_WEB_MODEL=str(bundle),
                            TEXTREC_WEB_MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES))
    yield server
    stop_server(server)


def start_gunicorn(folder: Path, **env: str) -> Server:
    """gunicorn with two sync workers serving ``textrec_web.wsgi:app`` on a free port, set up by
    ``env``, its stderr logged in ``folder``."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120",
               "textrec_web.wsgi:app"]
    return start_server(command, server_env(**env), port, folder / "stderr.log")


@pytest.fixture(scope="session")
def corrections_folder(tmp_path_factory) -> Path:
    """Where :func:`corrections_server` stores corrections (it creates the folder)."""
    return tmp_path_factory.mktemp("corrections") / "folder"


@pytest.fixture(scope="session")
def corrections_server(bundle, corrections_folder, tmp_path_factory) -> Iterator[Server]:
    """The production set-up with corrections on: gunicorn, two sync workers (two processes writing
    one folder), ``TEXTREC_WEB_CORRECTIONS_DIR`` set to :func:`corrections_folder`."""
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn-corrections"), TEXTREC_WEB_MODEL=str(bundle),
                            TEXTREC_WEB_CORRECTIONS_DIR=str(corrections_folder))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def metrics_folder(tmp_path_factory) -> Path:
    """The ``PROMETHEUS_MULTIPROC_DIR`` of :func:`drift_server` (empty when it starts, as it must be)."""
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture(scope="session")
def drift_server(bundle, metrics_folder, tmp_path_factory) -> Iterator[Server]:
    """The production set-up with its metrics folder named (``PROMETHEUS_MULTIPROC_DIR`` set to
    :func:`metrics_folder`) and a drift window of 20 predictions: gunicorn, two sync workers."""
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn-drift"), TEXTREC_WEB_MODEL=str(bundle),
                            PROMETHEUS_MULTIPROC_DIR=str(metrics_folder), TEXTREC_WEB_DRIFT_WINDOW="20")
    yield server
    stop_server(server)


@pytest.fixture
def launch(tmp_path) -> Iterator[Callable[..., Server]]:
    """``launch(args, **env) -> Server``: run ``textrec-serve args --port P`` until the test ends."""
    servers: list[Server] = []

    def run(args: list[str], **env: str) -> Server:
        port = free_port()
        command = [sys.executable, "-m", "textrec_web.cli", *args, "--port", str(port)]
        servers.append(start_server(command, server_env(**env), port, tmp_path / f"serve{len(servers)}.log"))
        return servers[-1]

    yield run
    for server in servers:
        stop_server(server)
