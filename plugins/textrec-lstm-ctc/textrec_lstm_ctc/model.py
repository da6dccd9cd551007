"""``LineModelCtc``: reads a line of any width as a CTC label sequence.

The network gives logits ``(B, T, num_classes)`` over the dataset's alphabet, ``T`` frames that
grow with the image width (``network.output_length(width)``); labels are ``(B, max_length)``
indices of that alphabet: the text, then ``<pad>`` to the end.

Loss: CTC (:func:`textrec_lines.ctc_loss`) with the mapping's ``<blank>``, on the log-softmax
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

Metrics (``evaluate``): ``loss``, the CTC loss as above, averaged over the lines; ``cer`` and ``wer``, corpus-level
character and word error rates of the texts read with the configured decoder; with
``decoder="beam"`` also ``cer_greedy``, the CER of best-path reading, so one run reports what
the beam search gains (:class:`textrec_lines.DecodingModel`).

A bundle saved by ``textrec-run`` records the model arguments, so ``load_predictor`` decodes
the way the model was configured (greedy or beam).
"""

from __future__ import annotations

import torch

from textrec_core.mapping import BLANK, PAD
from textrec_core.model import InferenceData
from textrec_core.protocols import Dataset
from textrec_lines import DecodingModel, ctc_loss
from textrec_lstm_ctc.ctc import beam_decode_batch, greedy_decode_batch


class LineModelCtc(DecodingModel):
    """Reads lines with CTC; metrics ``loss``, ``cer``, ``wer`` (and ``cer_greedy`` with the beam decoder)."""

    variable_width = True
    required_tokens = (PAD, BLANK)

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module, decoder: str = "greedy",
                 beam_width: int = 10) -> None:
        super().__init__(dataset, network, decoder, beam_width)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return ctc_loss(logits, self.text_tokens(labels), self.blank_index)

    def _read(self, log_probs: torch.Tensor, decoder: str) -> list[list[int]]:
        """The label indices each line of ``log_probs`` ``(B, T, C)`` reads as with ``decoder``."""
        if decoder == "greedy":
            return greedy_decode_batch(log_probs, self.blank_index)
        return [tokens for tokens, _ in beam_decode_batch(log_probs, self.blank_index, self.beam_width)]

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """The edit-distance sums of the batch read with the configured decoder (and greedily, with the beam)."""
        log_probs = logits.float().log_softmax(dim=-1)
        return self.reading_error_sums(
            lambda decoder: [self.mapping.spell(tokens) for tokens in self._read(log_probs, decoder)], labels
        )

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        tokens = self._read(logits.float().log_softmax(dim=-1), self.decoder)
        losses = ctc_loss(logits, tokens, self.blank_index, reduction="none", zero_infinity=False)
        confidences = (-losses).exp().clamp(max=1.0)
        return [(self.mapping.spell(row), confidence) for row, confidence in zip(tokens, confidences.tolist())]
