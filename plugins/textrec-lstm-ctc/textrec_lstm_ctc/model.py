"""``LineModelCtc``: reads a line of any width as a CTC label sequence.

The network gives logits ``(B, T, num_classes)`` over the dataset's alphabet, ``T`` frames that
grow with the image width (``network.output_length(width)``); labels are ``(B, max_length)``
indices of that alphabet: the text, then ``<pad>`` to the end.

Loss: CTC (:func:`textrec_lines.ctc_loss`) with the mapping's ``<blank>``, on the log-softmax
of the logits computed in float32 (also under bfloat16 autocast, where the logits are bfloat16).
Targets are the labels with every ``<pad>`` removed, so each line has its own target length.
Input lengths: a batch of lines of different widths is padded on the right with background
(0), and in training, evaluation and ``predict`` each line has only the frames of its content as
input (``network.output_lengths(content_widths(images))``, :func:`textrec_lines.content_widths`:
up to its last non-zero column), so the padding is never read; a network without
``output_lengths`` gives every line all ``T`` frames, as ``loss(logits, labels)`` and
``decode(logits)`` always do.
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
from textrec_lines import DecodingModel, content_widths, ctc_loss
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

    def _frames(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The logits of ``images`` and each line's frames of content (None: all frames)."""
        logits = self.network(images)
        output_lengths = getattr(self.network, "output_lengths", None)
        if output_lengths is None:
            return logits, None
        return logits, output_lengths(content_widths(images)).clamp(max=logits.shape[1])

    def training_loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits, lengths = self._frames(images)
        return ctc_loss(logits, self.text_tokens(labels), self.blank_index, input_lengths=lengths)

    def evaluation_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """``loss_sum`` and ``samples``, and the edit-distance sums of the batch read with the
        configured decoder (and greedily, with the beam), each line over its frames of content."""
        logits, lengths = self._frames(images)
        n = labels.shape[0]
        loss = ctc_loss(logits, self.text_tokens(labels), self.blank_index, input_lengths=lengths)
        log_probs = logits.float().log_softmax(dim=-1)
        sums = self.reading_error_sums(
            lambda decoder: [self.mapping.spell(tokens) for tokens in self._read(log_probs, decoder, lengths)], labels
        )
        return {"loss_sum": loss.item() * n, "samples": n, **sums}

    def _read(self, log_probs: torch.Tensor, decoder: str, lengths: torch.Tensor | None = None) -> list[list[int]]:
        """The label indices each line of ``log_probs`` ``(B, T, C)`` (its first ``lengths`` frames)
        reads as with ``decoder``."""
        if decoder == "greedy":
            return greedy_decode_batch(log_probs, self.blank_index, lengths)
        return [tokens for tokens, _ in beam_decode_batch(log_probs, self.blank_index, self.beam_width, lengths)]

    def _decode(self, logits: torch.Tensor, lengths: torch.Tensor | None) -> list[tuple[str, float]]:
        tokens = self._read(logits.float().log_softmax(dim=-1), self.decoder, lengths)
        losses = ctc_loss(logits, tokens, self.blank_index, input_lengths=lengths, reduction="none",
                          zero_infinity=False)
        confidences = (-losses).exp().clamp(max=1.0)
        return [(self.mapping.spell(row), confidence) for row, confidence in zip(tokens, confidences.tolist())]

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence of each line of ``logits``, read over all its frames."""
        return self._decode(logits, None)

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence of each image, each read over its frames of content."""
        self.network.eval()
        return self._decode(*self._frames(images.to(self.device)))
