"""Prometheus metrics, which ``GET /metrics`` answers in Prometheus' text format, or OpenMetrics
where the scraper's ``Accept`` header asks for it (prometheus_client).

- ``textrec_web_requests_total{endpoint, method, status}`` (counter): requests answered;
- ``textrec_web_request_duration_seconds{endpoint}`` (histogram): request arrival in the app to answer;
- ``textrec_web_prediction_confidence{model_version, dataset_version}`` (histogram): each
  prediction's confidence;
- ``textrec_web_input_width_pixels``, ``textrec_web_input_height_pixels`` (histograms): the size of
  each image read for a prediction, as received; ``textrec_web_input_mean_intensity`` (histogram): its grayscale
  mean as received, 0 black to 1 white;
- ``textrec_web_low_confidence_total{outcome}`` (counter): low-confidence inputs ``stored``, not
  stored because the folder is ``full``, or ``unstorable`` (:mod:`textrec_web.low_confidence`);
- ``textrec_web_model_info{model_version, dataset_version, model, network, predictor}`` (gauge, 1):
  the model served;
- ``textrec_web_drift_psi{signal, model_version, dataset_version}`` (gauge): each signal's PSI once
  the drift window is full; ``textrec_web_drift_window_requests{model_version, dataset_version}``
  (gauge): the predictions in that window (both only where drift is measured).

``endpoint`` is the path of one of the service's endpoints (``/v1/predict``, ``/healthz``, ...) or
``other``; ``method`` one of :data:`METHODS` or ``other``; ``model_version`` the bundle's digest and
``dataset_version`` its ``dataset_version`` (empty when it has none).

Under gunicorn prometheus_client runs in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set before
it was imported: :mod:`textrec_web.multiprocess`): every worker keeps its counters and histograms in
files of that folder and ``/metrics`` adds up the files of all of them, so any worker answers for
the whole server, and the counts of a worker that exited still count (they are requests served).
The gauges are computed when ``/metrics`` is read (the model's identity, and the drift of the
window every worker shares), never stored per process, so no process's gauge goes stale and no
``mark_process_dead`` bookkeeping is needed. Without the variable (``textrec-serve``, ``create_app``
in Python), the metrics are this app's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from textrec_web.drift import DriftMonitor
from textrec_web.model import ServedModel
from textrec_web.multiprocess import VARIABLE, prepare_folder
from textrec_web.settings import SettingsError

PREFIX = "textrec_web_"
#: HTTP methods counted by name; any other is counted as ``other`` (a method is any token a client sends).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CONFIDENCE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
PIXEL_BUCKETS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
INTENSITY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def multiprocess_folder() -> str | None:
    """The folder of prometheus_client's multiprocess mode (created if missing), None when it does
    not run in it; :class:`SettingsError` when ``PROMETHEUS_MULTIPROC_DIR`` and the mode disagree
    (the variable was set, or unset, after prometheus_client was imported, when the mode is chosen)
    or the folder cannot be created."""
    folder = os.environ.get(VARIABLE, "").strip() or None
    multiprocess = values.ValueClass is not values.MutexValue
    if multiprocess and folder is None:
        raise SettingsError(f"prometheus_client runs in multiprocess mode but {VARIABLE} is no longer set")
    if folder is not None and not multiprocess:
        raise SettingsError(f"{VARIABLE} was set after prometheus_client was imported, which reads it when imported: "
                            "set it before the process starts (textrec_web.wsgi sets it before importing the app)")
    return str(prepare_folder()) if folder is not None else None


class ServiceMetrics:
    """The service's metrics (module docstring) for ``model``, its drift measured by ``drift``;
    ``folder``: the multiprocess folder (:func:`multiprocess_folder`), None for metrics of this app's own."""

    def __init__(self, model: ServedModel, drift: DriftMonitor, folder: str | None) -> None:
        own = None if folder is not None else CollectorRegistry()
        versions = {"model_version": model.version, "dataset_version": model.identity["dataset_version"] or ""}
        self.requests = Counter(PREFIX + "requests", "Requests answered.", ["endpoint", "method", "status"],
                                registry=own)
        self.latency = Histogram(PREFIX + "request_duration_seconds", "Time from a request's arrival in the app "
                                 "to its answer, in seconds.", ["endpoint"], registry=own)
        self.confidence = Histogram(PREFIX + "prediction_confidence", "The model's confidence in each prediction.",
                                    list(versions), registry=own, buckets=CONFIDENCE_BUCKETS).labels(**versions)
        self.width = Histogram(PREFIX + "input_width_pixels", "Width of each image read for a prediction, "
                               "as received.", registry=own, buckets=PIXEL_BUCKETS)
        self.height = Histogram(PREFIX + "input_height_pixels", "Height of each image read for a prediction, "
                                "as received.", registry=own, buckets=PIXEL_BUCKETS)
        self.intensity = Histogram(PREFIX + "input_mean_intensity", "Mean grayscale intensity of each image read "
                                   "for a prediction, as received, 0 black to 1 white.", registry=own,
                                   buckets=INTENSITY_BUCKETS)
        self.low_confidence = Counter(PREFIX + "low_confidence", "Low-confidence inputs, by what became of them: "
                                      "stored for labeling, not stored because the folder is full, or not "
                                      "storable (a reading that cannot be a line's text).", ["outcome"], registry=own)
        self.registry = own if own is not None else CollectorRegistry()
        if folder is not None:
            MultiProcessCollector(self.registry, folder)
        self.registry.register(ModelCollector(model, drift, versions))

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method if method in METHODS else "other", str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_input(self, width: int, height: int, mean_intensity: float) -> None:
        self.width.observe(width)
        self.height.observe(height)
        self.intensity.observe(mean_intensity)

    def observe_confidence(self, confidence: float) -> None:
        self.confidence.observe(confidence)

    def observe_low_confidence(self, outcome: str) -> None:
        self.low_confidence.labels(outcome).inc()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """What ``/metrics`` answers to a request whose ``Accept`` header is ``accept``, and its content
        type: OpenMetrics where the scraper asks for it, else Prometheus' text format."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type


class ModelCollector:
    """The gauges computed when the metrics are read: the model's identity and the drift of the shared window."""

    def __init__(self, model: ServedModel, drift: DriftMonitor, versions: dict[str, str]) -> None:
        self.model, self.drift, self.versions = model, drift, versions

    def collect(self) -> Iterator[Metric]:
        identity = self.model.identity
        info = GaugeMetricFamily(PREFIX + "model_info", "The model served: 1, its identity in the labels.",
                                 labels=[*self.versions, "model", "network", "predictor"])
        info.add_metric([*self.versions.values(), identity["model"], identity["network"], identity["predictor"]], 1)
        yield info
        report = self.drift.report()
        if not report["enabled"]:
            return
        window = GaugeMetricFamily(PREFIX + "drift_window_requests", "Predictions in the drift window (shared by "
                                   "every worker).", labels=list(self.versions))
        window.add_metric(list(self.versions.values()), report["window"]["requests"])
        yield window
        psi = GaugeMetricFamily(PREFIX + "drift_psi", "Population stability index of each signal over the drift "
                                "window against the training data's reference; absent until the window is full.",
                                labels=["signal", *self.versions])
        for name, signal in report["signals"].items():
            if signal["psi"] is not None:
                psi.add_metric([name, *self.versions.values()], signal["psi"])
        yield psi
