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
a line) and more likely to find the most probable text. ``"beam_lm"`` runs the same search
fused with a character n-gram language model (:mod:`textrec_lines.language_model`) of order
``lm_order`` built from ``lm`` (``"brown"``, the Brown corpus through NLTK, or the path of a
UTF-8 text file; built once, then cached): each character a prefix is extended by adds
``lm_weight`` times its log-probability under the model plus ``lm_bonus`` (the bonus offsets the
language model's cost per character, which would otherwise favour short readings). The defaults
were chosen on IAM-OnDB's validation split (docs/performance.md). Characters read as themselves;
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

from functools import lru_cache

import numpy as np
import torch

from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, PAD, CharacterMapping
from textrec_core.model import InferenceData
from textrec_core.protocols import Dataset
from textrec_core.services.arguments import check_integer, check_range
from textrec_lines import DecodingModel, content_widths, ctc_loss
from textrec_lines.decoding import DECODERS
from textrec_lines.language_model import CharNgramModel, load_language_model
from textrec_lstm_ctc.ctc import ExtensionScores, beam_decode_batch, greedy_decode_batch

#: Longer contexts than this are rarely seen in a corpus, and make the model's codes overflow sooner.
MAX_LM_ORDER = 8


class LineModelCtc(DecodingModel):
    """Reads lines with CTC; metrics ``loss``, ``cer``, ``wer`` (and ``cer_greedy`` with the beam decoder)."""

    variable_width = True
    required_tokens = (PAD, BLANK)
    decoders = (*DECODERS, "beam_lm")

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module, decoder: str = "greedy",
                 beam_width: int = 10, lm: str = "brown", lm_order: int = 6, lm_weight: float = 0.5,
                 lm_bonus: float = 2.5) -> None:
        if not isinstance(lm, str) or not lm:
            raise ArgumentError("lm", f"must be 'brown' or the path of a UTF-8 text file, got {lm!r}")
        check_integer("lm_order", lm_order)
        if lm_order > MAX_LM_ORDER:
            raise ArgumentError("lm_order", f"must be at most {MAX_LM_ORDER}, got {lm_order}")
        check_range("lm_weight", lm_weight, 0, 10)
        check_range("lm_bonus", lm_bonus, -20, 20)
        super().__init__(dataset, network, decoder, beam_width)
        self.lm, self.lm_order, self.lm_weight, self.lm_bonus = lm, lm_order, lm_weight, lm_bonus
        self._extension_scores: ExtensionScores | None = None

    def extension_scores(self) -> ExtensionScores:
        """The language model's score of each class after a prefix (class indices), for ``beam_lm``:
        built on first use (reading ``lm``); special tokens score ``-inf``."""
        if self._extension_scores is None:
            characters = [token for token in self.mapping.tokens if len(token) == 1]
            model = load_language_model(self.lm, characters, self.lm_order)
            self._extension_scores = lm_extension_scores(model, self.mapping, self.lm_weight, self.lm_bonus)
        return self._extension_scores

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
        scores = self.extension_scores() if decoder == "beam_lm" else None
        readings = beam_decode_batch(log_probs, self.blank_index, self.beam_width, lengths, scores)
        return [tokens for tokens, _ in readings]

    def decode_frames(self, logits: torch.Tensor, lengths: torch.Tensor | None) -> list[tuple[str, float]]:
        """Text and confidence of each line of per-frame ``logits`` ``(B, T, C)`` (log-probabilities
        will do), each read over its first ``lengths`` frames (None: all) with this model's decoder."""
        tokens = self._read(logits.float().log_softmax(dim=-1), self.decoder, lengths)
        losses = ctc_loss(logits, tokens, self.blank_index, input_lengths=lengths, reduction="none",
                          zero_infinity=False)
        confidences = (-losses).exp().clamp(max=1.0)
        return [(self.mapping.spell(row), confidence) for row, confidence in zip(tokens, confidences.tolist())]

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence of each line of ``logits``, read over all its frames."""
        return self.decode_frames(logits, None)

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence of each image, each read over its frames of content."""
        self.network.eval()
        return self.decode_frames(*self._frames(images.to(self.device)))

    @torch.inference_mode()
    def frame_log_probs(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-frame log-probabilities ``(B, T, C)`` of ``images`` (float32) and each line's frames of
        content (None: all frames), as :meth:`decode_frames` reads them."""
        self.network.eval()
        logits, lengths = self._frames(images.to(self.device))
        return logits.float().log_softmax(dim=-1), lengths


def lm_extension_scores(model: CharNgramModel, mapping: CharacterMapping, weight: float,
                        bonus: float) -> ExtensionScores:
    """``prefix -> weight * log P(class | spelled prefix) + bonus`` per class, ``-inf`` for special tokens;
    remembered per prefix, as a beam keeps its prefixes from frame to frame."""
    classes = np.array([mapping.index(character) for character in model.alphabet])
    size = len(mapping.tokens)

    @lru_cache(maxsize=1 << 14)
    def scores(prefix: tuple[int, ...]) -> np.ndarray:
        row = np.full(size, -np.inf)
        row[classes] = weight * model.log_probs(mapping.spell(list(prefix))[-(model.order - 1):] if model.order > 1
                                                else "") + bonus
        return row

    return scores
