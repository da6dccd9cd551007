"""The confusion-matrix plot of a character model's report (matplotlib, Agg backend).

matplotlib is imported when a plot is drawn, not with this module, so serving a character model
never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textrec_core.services.fileio import atomic_write


def plot_confusion_matrix(matrix: np.ndarray, labels: Sequence[str], path: Path, title: str) -> Path:
    """Write ``matrix`` (counts ``[true, predicted]``, one row and column per entry of ``labels``)
    row-normalised as a PNG at ``path``, atomically; return ``path``. A row without samples is all 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros_like(matrix, dtype=float), where=rows > 0)
    size = max(6, len(labels) * 0.18)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(normalised, cmap="viridis", vmin=0, vmax=1)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return path
