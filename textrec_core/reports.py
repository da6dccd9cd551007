"""The run folder: resolved config, metrics, log and plots of one ``textrec-run``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from textrec_core.checkpoint import CHECKPOINT_FILE
from textrec_core.services.fileio import atomic_write, write_json

ENV_RUNS_DIR = "TEXTREC_RUNS_DIR"
CONFIG_FILE = "config.json"
#: What a run started from, beside its config: ``{"dataset_version": ..., "init_from": ...}``.
PROVENANCE_FILE = "provenance.json"


def pyplot():
    """matplotlib's ``pyplot`` drawing to files (the Agg backend), imported only when a plot is made."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class RunFolder:
    """``<runs>/<timestamp>-<dataset>-<network>/`` holding ``config.json``, ``provenance.json``,
    ``metrics.json``, ``run.log``, ``checkpoint.pt``, ``training_curves.png`` and model-specific
    plots. ``<runs>`` is ``$TEXTREC_RUNS_DIR`` or ``./runs``.

    ``config.json`` is the resolved config (what ``--resume`` reads back); ``provenance.json`` what
    the run started from: the prepared dataset's ``dataset_version`` and ``init_from``, the
    ``{"path", "sha256"}`` of the bundle whose weights it started from (both null when none)."""

    def __init__(self, dataset: str, network: str, root: Path | None = None) -> None:
        root = Path(root or os.environ.get(ENV_RUNS_DIR) or "runs")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{dataset}-{network}"
        path, n = root / base, 1
        while path.exists():
            n += 1
            path = root / f"{base}-{n}"
        path.mkdir(parents=True)
        self.path = path
        self.metrics: dict[str, Any] = {"history": {}, "test": {}}

    @classmethod
    def reopen(cls, path: Path, history: dict[str, list[float]]) -> RunFolder:
        """An existing run folder, continued from ``history`` (a checkpoint's: later epochs are dropped)."""
        folder = cls.__new__(cls)
        folder.path = Path(path)
        folder.metrics = {"history": {key: list(values) for key, values in history.items()}, "test": {}}
        write_json(folder.path / "metrics.json", folder.metrics)
        return folder

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT_FILE

    @property
    def log_file(self) -> Path:
        return self.path / "run.log"

    def write_config(self, config: dict[str, Any]) -> None:
        write_json(self.path / CONFIG_FILE, config)

    def write_provenance(self, *, dataset_version: str | None, init_from: dict[str, str] | None) -> None:
        write_json(self.path / PROVENANCE_FILE, {"dataset_version": dataset_version, "init_from": init_from})

    def read_provenance(self) -> dict[str, Any] | None:
        """What :meth:`write_provenance` wrote; None for a run folder without it (made by a textrec
        that recorded none)."""
        path = self.path / PROVENANCE_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self.metrics["history"].setdefault(key, []).append(value)
        write_json(self.path / "metrics.json", self.metrics)

    def write_test_metrics(self, metrics: dict[str, float]) -> None:
        self.metrics["test"] = metrics
        write_json(self.path / "metrics.json", self.metrics)

    def plot_training_curves(self) -> Path:
        return plot_training_curves(self.metrics["history"], self.path / "training_curves.png")


def plot_training_curves(history: dict[str, list[float]], path: Path) -> Path:
    """Loss (train and validation) and every other validation metric against the epoch."""
    plt = pyplot()
    others = [k for k in history if k.startswith("val_") and k != "val_loss"]
    fig, axes = plt.subplots(1, 1 + bool(others), figsize=(5 + 5 * bool(others), 4), squeeze=False)
    epochs = range(1, len(history.get("train_loss", [])) + 1)
    ax = axes[0][0]
    for key in ("train_loss", "val_loss"):
        if key in history:
            ax.plot(epochs, history[key], marker="o", label=key)
    ax.set(xlabel="epoch", ylabel="loss", title="loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    if others:
        ax = axes[0][1]
        for key in others:
            ax.plot(epochs, history[key], marker="o", label=key)
        ax.set(xlabel="epoch", title="validation metrics")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return path

