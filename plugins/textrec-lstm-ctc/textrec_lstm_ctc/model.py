"""``LineModelCtc``: reads a line of any width as a CTC label sequence.

The network gives logits ``(B, T, num_classes)`` over the line mapping, ``T`` frames that grow
with the image width (``network.output_length(width)``); labels are ``(B, max_length)``
indices of the line mapping: the text, then ``<pad>`` to the end.

Loss: CTC (``torch.nn.functional.ctc_loss``) with the mapping's ``<blank>``, on the log-softmax
of the logits computed in float32 (also under bfloat16 autocast, where the logits are bfloat16).
Targets are the labels with every ``<pad>`` removed, so each line has its own target length;
every line of a batch has all ``T`` frames as input length (a batch's images share a width).
Each line's loss is divided by its target length and the batch averaged (``reduction="mean"``;
an empty text counts as length 1). CTC needs at least as many frames as characters plus one
between each pair of repeated neighbours; a line with too few has infinite loss, which
``zero_infinity`` makes 0 (it then contributes no gradient) rather than NaN.

Decoding (``decoder``): ``"greedy"`` reads the best path
(:func:`~textrec_lstm_ctc.ctc.greedy_decode`), ``"beam"`` runs a prefix beam search of
``beam_width`` prefixes (:func:`~textrec_lstm_ctc.ctc.beam_decode`): slower (a few milliseconds
a line) and more likely to find the most probable text. Characters read as themselves;
special tokens, which the targets never hold, read as nothing. ``label_text`` reads labels the
same way, so ``<pad>`` reads as nothing.

Confidence: the probability the model gives the text it read, summed over every alignment of
that text to the frames (``exp(-CTC loss)`` of the text as target), in [0, 1]. It is the CTC
counterpart of ``LineModel``'s confidence (the probability of the whole reading), and unlike
the probability of the single best path it does not fall where frames split their mass
between a character and the blank around it, which spell the same text; extra frames of
confident background (a line padded in a batch) barely change it.

Metrics (``evaluate``): ``loss``; ``cer`` and ``wer``, corpus-level character and word error
rates (total edit distance over total truth length, as :mod:`textrec_core.metrics`) of the
texts read with the configured decoder; with ``decoder="beam"`` also ``cer_greedy``, the CER of
best-path reading, so one run reports what the beam search gains.

A bundle saved by ``textrec-run`` records the model arguments, so ``load_predictor`` decodes
the way the model was configured (greedy or beam).
"""

from __future__ import annotations

from functools import cached_property

import torch
import torch.nn.functional as F

from textrec_core import TorchModel
from textrec_core.mapping import BLANK, PAD
from textrec_core.metrics import edit_distance
from textrec_core.protocols import Dataset
from textrec_lstm_ctc.ctc import beam_decode_batch, greedy_decode_batch

DECODERS = ("greedy", "beam")


class LineModelCtc(TorchModel):
    """Reads lines with CTC; metrics ``loss``, ``cer``, ``wer`` (and ``cer_greedy`` with the beam decoder)."""

    name = "LineModelCtc"
    predictor = "LinePredictor"
    variable_width = True

    def __init__(self, dataset: Dataset, network: torch.nn.Module, decoder: str = "greedy",
                 beam_width: int = 10) -> None:
        super().__init__(dataset, network)
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
        if beam_width < 1:
            raise ValueError(f"beam_width must be at least 1, got {beam_width}")
        for token in (PAD, BLANK):
            if token not in self.mapping:
                raise ValueError(
                    f"LineModelCtc needs the {token} token in the label mapping; {self.mapping!r} lacks it"
                )
        if len(self.shapes.output_shape) != 1:
            raise ValueError(
                f"LineModelCtc reads padded line labels of shape (max_length,), got {self.shapes.output_shape}"
            )
        self.decoder = decoder
        self.beam_width = beam_width

    @property
    def error_rates(self) -> dict[str, tuple[str, str]]:
        """``cer`` and ``wer`` of the configured decoder; with the beam, also the greedy reading's ``cer_greedy``."""
        rates = {"cer": ("char_edits", "truth_chars"), "wer": ("word_edits", "truth_words")}
        if self.decoder == "beam":
            rates["cer_greedy"] = ("greedy_char_edits", "truth_chars")
        return rates

    # Looked up once, on first use.
    @cached_property
    def _pad(self) -> int:
        return self.mapping.index(PAD)

    @cached_property
    def _blank(self) -> int:
        return self.mapping.index(BLANK)

    @staticmethod
    def _log_probs(logits: torch.Tensor) -> torch.Tensor:
        """Float32 log-probabilities ``(B, T, C)`` of the classes at each frame."""
        return logits.float().log_softmax(dim=-1)

    def _ctc_losses(self, log_probs: torch.Tensor, targets: list[list[int]], *, reduction: str,
                    zero_infinity: bool) -> torch.Tensor:
        """CTC loss of ``targets`` (one index list per line) over all ``T`` frames of ``log_probs``."""
        batch, frames = log_probs.shape[:2]
        flat = torch.tensor([i for target in targets for i in target], dtype=torch.long, device=log_probs.device)
        lengths = torch.tensor([len(target) for target in targets], dtype=torch.long, device=log_probs.device)
        input_lengths = torch.full((batch,), frames, dtype=torch.long, device=log_probs.device)
        return F.ctc_loss(log_probs.transpose(0, 1), flat, input_lengths, lengths, blank=self._blank,
                          reduction=reduction, zero_infinity=zero_infinity)

    def _targets(self, labels: torch.Tensor) -> list[list[int]]:
        return [[i for i in row if i != self._pad] for row in labels.tolist()]

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self._ctc_losses(self._log_probs(logits), self._targets(labels), reduction="mean", zero_infinity=True)

    def _read(self, log_probs: torch.Tensor, decoder: str) -> list[list[int]]:
        if decoder == "greedy":
            return greedy_decode_batch(log_probs, self._blank)
        return [tokens for tokens, _ in beam_decode_batch(log_probs, self._blank, self.beam_width)]

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Sums over the batch of character and word edit distances and truth lengths (and of the
        greedy reading's character edits when decoding with the beam)."""
        log_probs = self._log_probs(logits)
        truths = self.label_text(labels)
        texts = [self.mapping.spell(tokens) for tokens in self._read(log_probs, self.decoder)]
        sums = {
            "char_edits": sum(edit_distance(text, truth) for text, truth in zip(texts, truths)),
            "truth_chars": sum(map(len, truths)),
            "word_edits": sum(edit_distance(text.split(), truth.split()) for text, truth in zip(texts, truths)),
            "truth_words": sum(len(truth.split()) for truth in truths),
        }
        if self.decoder == "beam":
            greedy = [self.mapping.spell(tokens) for tokens in self._read(log_probs, "greedy")]
            sums["greedy_char_edits"] = sum(edit_distance(text, truth) for text, truth in zip(greedy, truths))
        return sums

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        log_probs = self._log_probs(logits)
        tokens = self._read(log_probs, self.decoder)
        losses = self._ctc_losses(log_probs, tokens, reduction="none", zero_infinity=False)
        confidences = (-losses).exp().clamp(max=1.0)
        return [(self.mapping.spell(row), confidence) for row, confidence in zip(tokens, confidences.tolist())]

    def label_text(self, labels: torch.Tensor) -> list[str]:
        return [self.mapping.spell(row) for row in labels.tolist()]
