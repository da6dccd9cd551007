"""``LineModel``: reads a line as a fixed-length label, one token per output position.

Labels are ``(B, max_length)`` indices of the dataset's alphabet: the text, then ``<pad>`` to the end;
the network's logits are ``(B, max_length, num_classes)``.

Reading a text (``decode``): the argmax token of each position; the ``<pad>`` tokens after the
last other token are padding and dropped, and a ``<pad>`` before it is read as a space. A blank
stretch of line looks the same whether it is a space between words or the padding after the
text, so a network reading window by window may well call every blank window ``<pad>``, the
commoner label: stopping at the first ``<pad>`` would cut such readings at their first space.
The other special tokens (``<blank>``, ``<start>``, ``<end>``) never occur in these labels and
read as nothing. ``label_text`` spells labels (the text, then ``<pad>``) as every sequence model
does (:class:`textrec_lines.SequenceModel`), which gives the same text.

Confidence: the product over all ``max_length`` positions of each position's top softmax
probability, the probability the model gives its whole reading (its loss treats positions as
independent); it lies in [0, 1] and falls with every doubtful position.

Metrics (``evaluate``): ``loss``, the per-position cross-entropy averaged over every position,
padding included (a class to predict, as in the labs); ``character_accuracy``, per line the
fraction of its text (non-pad) positions read right, averaged over lines (a line with no text
scores 1; a ``<pad>`` predicted for a space is right, as it reads as a space); ``cer``, the
corpus-level character error rate of the read texts against the truths (total edit distance
over total truth length, as :func:`textrec_core.services.metrics.character_error_rate`), not
the mean of per-line rates.
"""

from __future__ import annotations

from functools import cached_property

import torch
import torch.nn.functional as F

from textrec_core import TorchModel
from textrec_core.mapping import SPACE
from textrec_lines import TEXT_ERROR_RATIOS, SequenceModel, text_error_sums


class LineModel(SequenceModel):
    """Reads fixed-length line labels; metrics ``loss``, ``character_accuracy`` and ``cer``."""

    ratios = {
        **TorchModel.ratios,
        "character_accuracy": ("character_accuracy_sum", "samples"),
        "cer": TEXT_ERROR_RATIOS["cer"],
    }

    @cached_property
    def _space(self) -> int:
        return self.mapping.index(SPACE)

    def _read(self, indices: torch.Tensor) -> list[str]:
        """The texts spelled by output indices ``(B, max_length)``; see the module docstring."""
        texts = []
        for row in indices.tolist():
            while row and row[-1] == self.pad_index:
                row.pop()
            texts.append(self.mapping.spell(row, pad=SPACE))
        return texts

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.transpose(1, 2), labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Sums over the batch: of per-line character accuracies (``character_accuracy_sum``) and
        :func:`~textrec_lines.text_error_sums` of the read texts."""
        predicted = logits.argmax(dim=-1)
        text = labels != self.pad_index
        counts = text.sum(dim=1)
        # a <pad> predicted for a space reads as a space (a blank window is either)
        right = (predicted == labels) | ((labels == self._space) & (predicted == self.pad_index))
        correct = (right & text).sum(dim=1)
        accuracy = torch.where(counts > 0, correct / counts.clamp(min=1), 1.0)
        return {"character_accuracy_sum": accuracy.sum().item(),
                **text_error_sums(self._read(predicted), self.label_text(labels))}

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        top_log_probs, indices = logits.log_softmax(dim=-1).max(dim=-1)
        return list(zip(self._read(indices), top_log_probs.sum(dim=1).exp().tolist()))
