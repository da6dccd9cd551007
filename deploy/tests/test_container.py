"""The serving image as deployed: built by ``deploy/build-image.sh --offline``, run by a Docker
engine with a model bundle mounted read-only, exercised over HTTP on loopback, stopped, removed.

The commands are those of docs/deploy.md. Without a Docker engine every test is skipped, saying
so, unless ``TEXTREC_REQUIRE_DOCKER`` is set (``.ci/run`` sets it once it has started one): then
they fail. Everything the tests make (containers, the image, the base image and the wheelhouse
where the build made them) is removed at the end.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from textrec_core import load_predictor
from textrec_core.bundle import Bundle
from textrec_web.testing import (
    BAD_REQUEST_NAMES,
    MAX_REQUEST_BYTES,
    assert_refused,
    b64,
    bad_requests,
    free_port,
    http_request,
    tiny_model_test_lines,
    train_tiny_line_model,
)

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "textrec-base:bookworm"
WHEELHOUSE = ROOT / "deploy" / "wheelhouse"
SESSION = uuid.uuid4().hex[:8]
LABEL = f"textrec.test={SESSION}"
HEALTHY_TIMEOUT_S = 180
#: What serving needs, and what the image must not hold (training, datasets, tests).
SERVING_MODULES = ["textrec_core", "textrec_web", "textrec_lines", "textrec_line_cnn", "textrec_lstm_ctc",
                   "textrec_attention", "textrec_iam", "onnxruntime", "gunicorn"]
NOT_SERVING_MODULES = ["wandb", "matplotlib", "pytest", "hypothesis", "textrec_emnist", "textrec_emnist_lines",
                       "textrec_hershey", "textrec_iam_ondb", "textrec_sweep", "textrec_data", "textrec_augment"]


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def checked(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"{' '.join(result.args)} exited with {result.returncode}:\n{result.stderr[-3000:]}"
    return result.stdout.strip()


@pytest.fixture(scope="session")
def engine() -> None:
    """A Docker engine that answers, and the base image or the means to make it; otherwise the test
    is skipped (or fails, module docstring)."""
    if shutil.which("docker") is None:
        why = "no docker command"
    elif (info := docker("info", timeout=30)).returncode != 0:
        why = f"no Docker engine answers `docker info` ({info.stderr.strip().splitlines()[-1:]}): start dockerd"
    elif docker("image", "inspect", BASE_IMAGE).returncode != 0 and (shutil.which("debootstrap") is None
                                                                      or os.geteuid() != 0):
        why = f"no {BASE_IMAGE} image, and no debootstrap run as root to make it (deploy/base-image.sh)"
    else:
        return
    message = f"{why}; .ci/run sets all this up"
    if os.environ.get("TEXTREC_REQUIRE_DOCKER"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    size_mb: float
    build_s: float


@pytest.fixture(scope="session")
def image(engine) -> Iterator[BuiltImage]:
    """The image, built as docs/deploy.md says (``deploy/build-image.sh --offline``)."""
    tag = f"textrec-web:test-{SESSION}"
    had_base = docker("image", "inspect", BASE_IMAGE).returncode == 0
    had_wheelhouse = WHEELHOUSE.exists()
    start = time.monotonic()
    build = subprocess.run([str(ROOT / "deploy" / "build-image.sh"), "--offline", "--tag", tag],
                           capture_output=True, text=True, timeout=1500)
    build_s = time.monotonic() - start
    try:
        assert build.returncode == 0, f"build-image.sh exited with {build.returncode}:\n{build.stdout[-3000:]}\n" \
                                      f"{build.stderr[-3000:]}"
        size = int(checked(docker("image", "inspect", "-f", "{{.Size}}", tag)))
        yield BuiltImage(tag, size / 1e6, build_s)
    finally:
        docker("image", "rm", "--force", tag)
        if not had_base:
            docker("image", "rm", "--force", BASE_IMAGE)
        if not had_wheelhouse:
            shutil.rmtree(WHEELHOUSE, ignore_errors=True)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """The tiny line model of :mod:`textrec_web.testing`."""
    return train_tiny_line_model(tmp_path_factory.mktemp("runs"))


@dataclass(frozen=True)
class Sample:
    png: bytes
    pred: str
    conf: float


@pytest.fixture(scope="session")
def samples(bundle) -> list[Sample]:
    """Eight test lines of the model's dataset and what the model reads in each, in this process."""
    predictor = load_predictor(bundle)
    return [Sample(png, *predictor.predict(Image.open(io.BytesIO(png)))) for png in tiny_model_test_lines(8)]


@dataclass(frozen=True)
class Container:
    id: str
    port: int

    def logs(self) -> str:
        result = docker("logs", self.id)
        return result.stdout + result.stderr


def run_container(image: BuiltImage, bundle: Path) -> Container:
    """``docker run`` as docs/deploy.md has it: the bundle mounted read-only at /model; host
    networking (this machine's containers reach no other network), so it listens on ``PORT``."""
    port = free_port()
    container_id = checked(docker(
        "run", "--detach", "--label", LABEL, "--network", "host", "--env", f"PORT={port}",
        "--env", f"TEXTREC_WEB_MAX_REQUEST_BYTES={MAX_REQUEST_BYTES}",
        "--volume", f"{bundle}:/model:ro", image.tag))
    return Container(container_id, port)


def wait_healthy(container: Container) -> None:
    """Wait until the engine reports the image's HEALTHCHECK healthy; fail with the logs if the
    container exits, turns unhealthy or takes longer than ``HEALTHY_TIMEOUT_S``."""
    start = time.monotonic()
    while time.monotonic() - start < HEALTHY_TIMEOUT_S:
        state = json.loads(checked(docker("inspect", "-f", "{{json .State}}", container.id)))
        if not state["Running"] or state["Health"]["Status"] == "unhealthy":
            pytest.fail(f"container {state['Status']}, health {state['Health']['Status']}:\n{container.logs()[-3000:]}")
        if state["Health"]["Status"] == "healthy":
            return
        time.sleep(0.5)
    pytest.fail(f"not healthy after {HEALTHY_TIMEOUT_S} s:\n{container.logs()[-3000:]}")


@pytest.fixture(scope="session")
def service(image, bundle) -> Iterator[Container]:
    """The image running with the bundle mounted, healthy."""
    container = run_container(image, bundle)
    try:
        wait_healthy(container)
        yield container
    finally:
        docker("rm", "--force", container.id)


def test_the_image_holds_what_serving_needs_and_no_training(image, capsys):
    probe = "import importlib.util, json, sys; print(json.dumps({m: importlib.util.find_spec(m) is not None " \
            "for m in sys.argv[1:]}))"
    found = json.loads(checked(docker("run", "--rm", "--network", "none", "--entrypoint", "python", image.tag,
                                      "-c", probe, *SERVING_MODULES, *NOT_SERVING_MODULES)))
    assert [m for m in SERVING_MODULES if not found[m]] == []
    assert [m for m in NOT_SERVING_MODULES if found[m]] == []
    with capsys.disabled():  # shown by every run, -s or not
        print(f"\nimage {image.tag}: {image.size_mb:.0f} MB, built in {image.build_s:.0f} s")


def test_it_turns_healthy_and_serves_the_mounted_model(service, bundle):
    reply = http_request(service.port, "GET", "/healthz")
    assert reply.status == 200
    model = reply.json()["model"]
    assert model["bundle"] == "/model" and model["digest"] == Bundle(bundle).digest()
    assert model["runtime"] == "torch"
    assert reply.headers["x-model-version"] == Bundle(bundle).digest()


def test_it_reads_lines_as_the_predictor_does(service, samples):
    for i, sample in enumerate(samples):
        if i % 2:
            reply = http_request(service.port, "POST", "/v1/predict", sample.png, {"Content-Type": "image/png"})
        else:
            reply = http_request(service.port, "POST", "/v1/predict",
                                 json.dumps({"image": "data:image/png;base64," + b64(sample.png)}).encode(),
                                 {"Content-Type": "application/json"})
        assert reply.status == 200, reply.body
        answer = reply.json()
        assert answer["pred"] == sample.pred
        assert answer["conf"] == pytest.approx(sample.conf, abs=1e-5)
        assert answer["request_id"] == reply.headers["x-request-id"]


@pytest.fixture(scope="module")
def battery(samples):
    return bad_requests(samples[0].png)


@pytest.mark.parametrize("name", BAD_REQUEST_NAMES)
def test_bad_input_is_a_json_error(service, battery, name):
    assert_refused(service.port, battery[name])


def test_the_workers_survived_the_bad_input(service, samples):
    reply = http_request(service.port, "POST", "/v1/predict", samples[1].png, {"Content-Type": "image/png"})
    assert reply.status == 200 and reply.json()["pred"] == samples[1].pred
    assert "Traceback" not in service.logs()


@pytest.fixture(scope="session")
def exported_bundle(bundle, tmp_path_factory) -> Path:
    """A copy of the tiny model's bundle holding its network as an ONNX graph (``textrec-export``)."""
    from textrec_export.cli import main as textrec_export

    copy = tmp_path_factory.mktemp("exported") / "model"
    shutil.copytree(bundle, copy)
    assert textrec_export([str(copy), "--format", "onnx"]) == 0
    return copy


def test_a_bundle_with_an_exported_graph_is_served_through_onnx_runtime(image, exported_bundle, samples):
    container = run_container(image, exported_bundle)
    try:
        wait_healthy(container)
        model = http_request(container.port, "GET", "/healthz").json()["model"]
        assert model["runtime"] == "onnx" and model["digest"] == Bundle(exported_bundle).digest()
        for sample in samples:
            reply = http_request(container.port, "POST", "/v1/predict", sample.png, {"Content-Type": "image/png"})
            assert reply.status == 200 and reply.json()["pred"] == sample.pred
            assert reply.json()["conf"] == pytest.approx(sample.conf, abs=1e-4)
    finally:
        docker("rm", "--force", container.id)


def test_it_runs_unprivileged_with_the_model_read_only(service):
    assert checked(docker("exec", service.id, "id", "-u")) == "10001"
    assert checked(docker("inspect", "-f", "{{.Config.User}}", service.id)) == "textrec"
    write = docker("exec", service.id, "sh", "-c", "echo x > /model/written")
    assert write.returncode != 0 and "Read-only file system" in write.stderr


def test_eight_clients_fifty_requests_each_without_an_error(service, samples, capsys):
    def client(index: int) -> list[tuple[bool, float]]:
        results = []
        for i in range(50):
            sample = samples[(index + i) % len(samples)]
            start = time.perf_counter()
            reply = http_request(service.port, "POST", "/v1/predict", sample.png, {"Content-Type": "image/png"})
            right = reply.status == 200 and reply.json()["pred"] == sample.pred
            results.append((right, time.perf_counter() - start))
        return results

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [result for client_results in pool.map(client, range(8)) for result in client_results]
    elapsed = time.perf_counter() - start
    errors = sum(not right for right, _ in results)
    latencies_ms = np.array([seconds for _, seconds in results]) * 1000
    p50, p99 = np.percentile(latencies_ms, [50, 99])
    with capsys.disabled():
        print(f"\n8 clients x 50 requests: {len(results)} answered, {errors} errors, {len(results) / elapsed:.0f} "
              f"requests/s, latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies_ms.max():.1f} ms")
    assert len(results) == 400 and errors == 0


def test_sigterm_stops_it_cleanly(image, bundle):
    container = run_container(image, bundle)
    try:
        wait_healthy(container)
        start = time.monotonic()
        checked(docker("stop", "--time", "30", container.id))
        stop_s = time.monotonic() - start
        state = json.loads(checked(docker("inspect", "-f", "{{json .State}}", container.id)))
        logs = container.logs()
        assert state["ExitCode"] == 0 and not state["OOMKilled"], logs[-3000:]
        assert stop_s < 30  # it stopped by itself, before the engine's SIGKILL
        assert "Handling signal: term" in logs and "Shutting down: Master" in logs
        assert "Traceback" not in logs
    finally:
        docker("rm", "--force", container.id)

