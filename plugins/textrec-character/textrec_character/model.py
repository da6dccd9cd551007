"""``CharacterModel``: one label per image, trained with cross-entropy, scored by accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from textrec_character.report import plot_confusion_matrix
from textrec_core import TorchModel
from textrec_core.protocols import Split


class CharacterModel(TorchModel):
    """Classifies single-character images; metrics: ``loss`` (mean cross-entropy) and ``accuracy``
    (the fraction of samples whose most likely class is the label). Takes no model arguments."""

    predictor = "CharacterPredictor"
    ratios = {**TorchModel.ratios, "accuracy": ("correct", "samples")}

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """``correct``: how many samples of the batch are classified as labelled."""
        return {"correct": (logits.argmax(dim=1) == labels).sum().item()}

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        conf, index = F.softmax(logits, dim=1).max(dim=1)
        return [(self.mapping[i], c) for i, c in zip(index.tolist(), conf.tolist())]

    def label_text(self, labels: torch.Tensor) -> list[str]:
        return [self.mapping[i] for i in labels.tolist()]

    @torch.inference_mode()
    def confusion_matrix(self, split: Split) -> np.ndarray:
        """Counts ``[true, predicted]`` over the whole split."""
        self.network.eval()
        n = len(self.mapping)
        counts = torch.zeros(n * n, dtype=torch.long)
        for images, labels in split.batches(1024):
            predicted = self.network(images.to(self.device)).argmax(dim=1).cpu()
            counts += torch.bincount(labels * n + predicted, minlength=n * n)
        return counts.view(n, n).numpy()

    def write_report(self, split: Split, out_dir: Path) -> list[Path]:
        """``confusion_matrix.png`` of ``split`` in ``out_dir``."""
        matrix = self.confusion_matrix(split)
        accuracy = np.trace(matrix) / max(matrix.sum(), 1)
        path = plot_confusion_matrix(
            matrix, self.mapping.to_list(), Path(out_dir) / "confusion_matrix.png",
            title=f"test confusion matrix (accuracy {accuracy:.3f})",
        )
        return [path]
