"""``LineModel``: reads a line as a fixed-length label, one token per output position.

Labels are ``(B, max_length)`` indices of the line mapping: the text, then ``<pad>`` to the end;
the network's logits are ``(B, max_length, num_classes)``.

Reading a text (``decode`` and ``label_text`` alike): the argmax token of each position; the
``<pad>`` tokens after the last other token are padding and dropped, and a ``<pad>`` before it
is read as a space. A blank stretch of line looks the same whether it is a space between words
or the padding after the text, so a network reading window by window may well call every blank
window ``<pad>``, the commoner label: stopping at the first ``<pad>`` would cut such readings at
their first space. The other special tokens (``<blank>``, ``<start>``, ``<end>``) never occur in
these labels and read as nothing.

Confidence: the product over all ``max_length`` positions of each position's top softmax
probability, the probability the model gives its whole reading (its loss treats positions as
independent); it lies in [0, 1] and falls with every doubtful position.

Metrics (``evaluate``): ``loss``, the per-position cross-entropy averaged over every position,
padding included (a class to predict, as in the labs); ``character_accuracy``, per line the
fraction of its text (non-pad) positions read right, averaged over lines (a line with no text
scores 1; a ``<pad>`` predicted for a space is right, as it reads as a space); ``cer``, the
corpus-level character error rate of the read texts against the truths (total edit distance
over total truth length, as
:func:`textrec_core.metrics.character_error_rate`), not the mean of per-line rates.
"""

from __future__ import annotations

from functools import cached_property

import torch
import torch.nn.functional as F

from textrec_core import TorchModel
from textrec_core.mapping import PAD, SPACE
from textrec_core.metrics import edit_distance
from textrec_core.protocols import Dataset


class LineModel(TorchModel):
    """Reads fixed-length line labels; metrics ``loss``, ``character_accuracy`` and ``cer``."""

    name = "LineModel"
    predictor = "LinePredictor"
    error_rates = {"cer": ("char_edits", "truth_chars")}

    def __init__(self, dataset: Dataset, network: torch.nn.Module) -> None:
        super().__init__(dataset, network)
        if PAD not in self.mapping:
            raise ValueError(f"LineModel needs the {PAD} token in the label mapping; {self.mapping!r} lacks it")
        if len(self.shapes.output_shape) != 1:
            raise ValueError(
                f"LineModel reads fixed-length labels of shape (max_length,), got {self.shapes.output_shape}"
            )

    # Looked up once, on first use.
    @cached_property
    def _pad(self) -> int:
        return self.mapping.index(PAD)

    @cached_property
    def _space(self) -> int:
        return self.mapping.index(SPACE)

    def _read(self, indices: torch.Tensor) -> list[str]:
        """The texts spelled by label indices ``(B, max_length)``; see the module docstring."""
        texts = []
        for row in indices.tolist():
            while row and row[-1] == self._pad:
                row.pop()
            texts.append(self.mapping.spell(row, pad=SPACE))
        return texts

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.transpose(1, 2), labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Sums over the batch of per-line ``character_accuracy``, and of edit distances and truth lengths."""
        predicted = logits.argmax(dim=-1)
        text = labels != self._pad
        counts = text.sum(dim=1)
        # a <pad> predicted for a space reads as a space (a blank window is either)
        right = (predicted == labels) | ((labels == self._space) & (predicted == self._pad))
        correct = (right & text).sum(dim=1)
        accuracy = torch.where(counts > 0, correct / counts.clamp(min=1), 1.0)
        truths = self._read(labels)
        edits = sum(edit_distance(read, truth) for read, truth in zip(self._read(predicted), truths))
        return {"character_accuracy": accuracy.sum().item(), "char_edits": edits, "truth_chars": sum(map(len, truths))}

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        top_log_probs, indices = logits.log_softmax(dim=-1).max(dim=-1)
        return list(zip(self._read(indices), top_log_probs.sum(dim=1).exp().tolist()))

    def label_text(self, labels: torch.Tensor) -> list[str]:
        return self._read(labels)
