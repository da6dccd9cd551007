"""HTTP serving throughput and latency versus the predictor in-process, in one run.

Starts gunicorn (``--workers``, default 2) serving ``textrec_web.wsgi:app`` on loopback with a
line-model bundle, sends ``--requests`` POST /v1/predict requests (a PNG line image as a data
URL, the lab's request format) from ``--clients`` threads, and reports requests per second, p50
and p99 latency, and each worker's resident memory. The baseline is the same predictor's
``predict`` in this process on the same image, one request at a time per core: its throughput
times the number of workers is what a perfect HTTP layer would reach.

    python benchmarks/bench_serving.py                   # an untrained line_cnn_all_conv bundle
    python benchmarks/bench_serving.py --bundle runs/<run>/model
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from textrec_core import load_predictor
from textrec_core.bundle import shapes_to_dict, write_bundle
from textrec_core.mapping import LINE_MAPPING
from textrec_core.plugins import components
from textrec_core.protocols import DataShapes


def untrained_bundle(directory: Path, max_length: int = 34) -> Path:
    shapes = DataShapes((28, 28 * max_length), (max_length,), LINE_MAPPING)
    network = components().get("network", "line_cnn_all_conv")(shapes)
    meta = {"model": "LineModel", "network": "line_cnn_all_conv", "network_args": {}, "model_args": {},
            "predictor": "LinePredictor", "shapes": shapes_to_dict(shapes), "mapping": LINE_MAPPING.to_list()}
    return write_bundle(directory / "model", network, meta)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_rss_mib(master: int) -> list[float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or untrained_bundle(Path(tmp))
        rng = np.random.default_rng(0)
        image = (255 - (rng.random((28, 600)) < 0.15) * 200).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        body = json.dumps({"image": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}).encode()

        torch.set_num_threads(1)
        predictor = load_predictor(bundle)
        predictor.predict(image)
        start = time.perf_counter()
        for _ in range(50):
            predictor.predict(image)
        in_process = 50 / (time.perf_counter() - start)

        port = free_port()
        env = {**os.environ, "TEXTREC_WEB_MODEL": str(bundle), "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "textrec_web.wsgi:app"],
            env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("gunicorn did not become ready") from None
                    time.sleep(0.3)
            latencies: list[float] = []
            lock = threading.Lock()
            per_client = args.requests // args.clients

            def client() -> None:
                for _ in range(per_client):
                    request = urllib.request.Request(url + "/v1/predict", data=body,
                                                     headers={"Content-Type": "application/json"})
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(request, timeout=60) as response:
                        json.load(response)
                    with lock:
                        latencies.append(time.perf_counter() - t0)

            for _ in range(args.workers * 3):  # warm every worker
                client_request = urllib.request.Request(url + "/v1/predict", data=body,
                                                        headers={"Content-Type": "application/json"})
                urllib.request.urlopen(client_request, timeout=60).read()
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            memory = worker_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    rps = len(latencies) / elapsed
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"{args.workers} gunicorn workers, {args.clients} client threads, {len(latencies)} requests, "
          f"line image 28x600 PNG")
    print(f"in-process predictor: {in_process:6.1f} predictions/s on 1 thread "
          f"(x{args.workers} workers = {in_process * args.workers:6.1f})")
    print(f"HTTP: {rps:6.1f} requests/s  p50 {statistics.median(latencies) * 1e3:6.1f} ms  p99 {p99 * 1e3:6.1f} ms  "
          f"ratio to {args.workers} x in-process {rps / (in_process * args.workers):.3f}")
    print("worker memory (RSS): " + ", ".join(f"{m:.0f} MiB" for m in memory))


if __name__ == "__main__":
    main()
