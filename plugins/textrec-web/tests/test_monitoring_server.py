"""Monitoring as deployed: gunicorn with two workers, whose metrics and drift window are shared
through the multiprocess folder (the server's own, or ``PROMETHEUS_MULTIPROC_DIR``)."""

from __future__ import annotations

import base64
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from textrec_core.bundle import Bundle
from textrec_web.multiprocess import process_key


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` as Prometheus parses it: (sample name, sorted labels) -> value."""
    reply = server.request("GET", "/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.body.decode()) for sample in family.samples}


def predict_all(server, images: list[bytes]) -> list:
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda png: server.post_json({"image": base64.b64encode(png).decode()}), images))


def worker_pids(folder: Path) -> set[str]:
    """The processes that have counted requests in a multiprocess folder."""
    return {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}


def counted(metrics: dict, status: str) -> float:
    key = ("textrec_web_requests_total", (("endpoint", "/v1/predict"), ("method", "POST"), ("status", status)))
    return metrics.get(key, 0.0)


def test_every_worker_answers_metrics_for_the_whole_server(gunicorn_server, samples, bundle):
    before = scrape(gunicorn_server)
    replies = predict_all(gunicorn_server, [sample.png for sample in samples] * 3)
    refused = [gunicorn_server.request("POST", "/v1/predict", b"nope", {"Content-Type": "image/png"})
               for _ in range(4)]
    assert [reply.status for reply in replies] == [200] * 24 and [reply.status for reply in refused] == [400] * 4
    folder = Path(tempfile.gettempdir()) / f"textrec-web-metrics-{os.getuid()}" / process_key(
        gunicorn_server.process.pid)
    # The master's folder holds the workers' files (which workers the kernel hands the connections to
    # varies: on a quiet machine one worker may take them all).
    assert worker_pids(folder)
    confidence = ("textrec_web_prediction_confidence_count",
                  (("dataset_version", ""), ("model_version", Bundle(bundle).digest())))
    for _ in range(6):  # whichever worker answers
        after = scrape(gunicorn_server)
        assert counted(after, "200") - counted(before, "200") == 24
        assert counted(after, "400") - counted(before, "400") == 4
        assert after[confidence] - before.get(confidence, 0.0) == 24


def test_the_workers_share_one_drift_window_and_warn_once_per_crossing(drift_server, metrics_folder, noise_images,
                                                                       bundle):
    digest = Bundle(bundle).digest()
    replies = predict_all(drift_server, noise_images[:40])
    assert all(reply.status == 200 for reply in replies)
    warnings = [line for line in drift_server.log_lines() if line["event"] == "drift"]
    signals = [line["signal"] for line in warnings]
    # Noise stays far from the training lines' intensity and shape: each crosses once and stays above.
    # (The confidence may hover around the threshold and cross more than once, a warning each time.)
    assert signals.count("intensity") == 1 and signals.count("aspect_ratio") == 1
    assert all(line["window"] == 20 and line["model_version"] == digest for line in warnings)
    reports = [drift_server.request("GET", "/v1/drift").json() for _ in range(6)]
    assert all(report == reports[0] for report in reports)  # whichever worker answers
    assert reports[0]["window"] == {"size": 20, "requests": 20}
    drifting = {name for name, signal in reports[0]["signals"].items() if signal["drifting"]}
    assert {"intensity", "aspect_ratio"} <= drifting <= set(signals)
    metrics = scrape(drift_server)
    psi = {dict(labels)["signal"]: value for (name, labels), value in metrics.items()
           if name == "textrec_web_drift_psi"}
    assert psi == {name: signal["psi"] for name, signal in reports[0]["signals"].items()}
    assert metrics[("textrec_web_requests_total", (("endpoint", "/v1/predict"), ("method", "POST"),
                                                   ("status", "200")))] == 40
    # The named folder holds the workers' files and the one window (which workers the kernel hands the
    # connections to varies: one may take them all).
    assert worker_pids(metrics_folder) and (metrics_folder / f"drift-{digest}.window").is_file()
