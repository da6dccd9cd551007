"""How live predictions depart from the data the model was trained on.

The bundle's ``reference_statistics`` (written by ``textrec-run --save``) hold a reference
histogram for each signal of :mod:`textrec_core.services.drift`: ``intensity`` and
``aspect_ratio`` of the line as the network read it (the predictor's preprocessed image), and
``confidence``. Each successful prediction appends its signals to a window of the last
``drift_window`` predictions, shared by every worker of the server (:mod:`textrec_web.window`, a
file of the metrics folder); once the window is full, each signal's population stability index
(PSI) against its reference is measured after every prediction. When a signal's PSI rises to
``drift_threshold`` or above, one JSON line ``{"event": "drift", ...}`` is logged at WARNING; when
it falls below again, one ``{"event": "drift_cleared", ...}`` at INFO: once per crossing, by
whichever worker's prediction crossed (the state is kept in the window, under its lock).

Drift is off (``enabled`` false, with the reason) for a bundle without reference statistics
(saved before textrec recorded them, or an ensemble), and a signal of the image is measured only
where the predictor shows the network's input (:attr:`ServedModel.shows_network_input`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from textrec_core.services.drift import IMAGE_SIGNALS, SIGNALS, Histogram, image_signals, psi
from textrec_web.model import Reading, ServedModel
from textrec_web.monitoring import log_event
from textrec_web.window import SharedWindow


class DriftMonitor:
    """The drift of ``model``'s live predictions over the last ``size`` of them (module docstring),
    their window a file in ``folder``; a signal drifts at a PSI of ``threshold`` or above."""

    def __init__(self, model: ServedModel, folder: Path, size: int, threshold: float) -> None:
        self.size, self.threshold = size, threshold
        self.model_version = model.version
        self.dataset_version = model.identity["dataset_version"]
        reference = model.predictor.bundle.reference_statistics or {}
        self.reference: dict[str, Histogram] = {
            name: reference[name] for name in SIGNALS
            if name in reference and (name not in IMAGE_SIGNALS or model.shows_network_input)}
        self.reason = off_reason(reference, self.reference)
        self.window = SharedWindow(folder / f"drift-{self.model_version}.window", size, len(self.reference)) \
            if self.reference else None

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(self.reference)

    def observe(self, reading: Reading) -> None:
        """Add a successful prediction's signals to the window; log each signal whose PSI crosses the threshold."""
        if self.window is None:
            return
        values = {"confidence": reading.confidence}
        if reading.network_input is not None:
            values.update({name: float(v[0]) for name, v in image_signals(reading.network_input[None]).items()})
        crossings = []
        with self.window.locked() as view:
            view.append([values[name] for name in self.signals])
            if view.full:
                rows = view.rows()
                for column, name in enumerate(self.signals):
                    value = psi(self.reference[name], rows[:, column])
                    if (value >= self.threshold) != view.flag(column):
                        view.set_flag(column, value >= self.threshold)
                        crossings.append((name, value))
        for name, value in crossings:
            drifting = value >= self.threshold
            log_event("drift" if drifting else "drift_cleared", level=logging.WARNING if drifting else logging.INFO,
                      signal=name, psi=round(value, 4), threshold=self.threshold, window=self.size,
                      model_version=self.model_version)

    def report(self) -> dict[str, Any]:
        """The state of drift, as ``GET /v1/drift`` answers it: whether it is measured (else the
        reason), the window's size and fill, the threshold, and per signal its PSI (None until the
        window is full), whether it drifts, and its reference's split and sample size."""
        report: dict[str, Any] = {"enabled": self.window is not None, "model_version": self.model_version,
                                  "dataset_version": self.dataset_version}
        if self.window is None:
            return {**report, "reason": self.reason}
        with self.window.locked() as view:
            rows, full, count = view.rows(), view.full, view.count
            drifting = [view.flag(column) for column in range(len(self.signals))]
        signals = {}
        for column, (name, reference) in enumerate(self.reference.items()):
            value = psi(reference, rows[:, column]) if full else None
            signals[name] = {"psi": value, "drifting": drifting[column],
                             "reference": {"split": reference.split, "count": reference.count}}
        return {**report, "threshold": self.threshold, "window": {"size": self.size, "requests": min(count, self.size)},
                "signals": signals}


def off_reason(recorded: dict[str, Histogram], measured: dict[str, Histogram]) -> str | None:
    """Why drift is not measured (None when it is), from the bundle's reference statistics and those
    the served predictor can be compared with."""
    if not recorded:
        return ("the bundle records no reference_statistics (it was saved before textrec recorded them, "
                "or is an ensemble): re-save it with textrec-run --save to measure drift")
    if not measured:
        return ("the bundle records only signals of the image as the network reads it, which this predictor "
                "does not show")
    return None
