"""``LineModelAttention``: reads a line autoregressively with an attention encoder-decoder.

Labels are ``(B, max_length)`` indices of the line mapping: the text, then ``<pad>`` to the end.
Teacher forcing (:func:`teacher_forcing`) feeds the decoder ``<start> t1 .. tn`` and trains it
to predict ``t1 .. tn <end>``; positions after ``<end>`` hold ``<pad>``, which the loss ignores.
Both are cut after the batch's longest text, which changes no loss (the decoder reads left to
right and the cut positions are all ignored) and saves the steps.

Auxiliary CTC (``ctc_weight``, default 0.3): training minimises ``(1 - ctc_weight)`` times the
cross-entropy plus ``ctc_weight`` times the CTC loss (``torch.nn.functional.ctc_loss`` with the
mapping's ``<blank>``, per target character, over each line's real frames) of the network's
``frame_logits``, joint CTC-attention training (Kim, Hori and Watanabe, 2017). Attention alone
finds where each character lies only slowly on long lines: on 34-character EMNIST lines it read
the language, not the line, for the first epochs (docs/performance.md has the runs). The CTC
head only trains; reading uses the decoder. ``ctc_weight`` 0 trains the decoder's loss alone;
the reported ``loss`` is always the decoder's cross-entropy.

Reading (``predict``) decodes each image with the configured ``decoder``: ``"greedy"``, or
``"beam"`` with ``beam_width`` hypotheses (:mod:`textrec_attention.search`). The text is the
decoded tokens before ``<end>``. ``decode(logits)`` reads given logits (e.g. teacher-forced
ones) the same way, from the most probable token at each position.

Confidence: the geometric mean of the decoded tokens' probabilities, ``<end>`` included
(``exp`` of their mean log-probability), in [0, 1]. It is the score beam search ranks
hypotheses by, and unlike the product it does not fall just because a line is long.

Metrics (``evaluate``): ``loss``, the teacher-forced cross-entropy per target token (``<end>``
included, ``<pad>`` not) over the split; ``cer`` and ``wer``, the corpus-level character and
word error rates of the decoded texts (total edit distance over total truth length,
:mod:`textrec_core.metrics`); with ``decoder="beam"`` also ``cer_greedy``, the greedy reading's
CER, to show what the beam adds.

A bundle saved by ``textrec-run`` records the model arguments, so ``load_predictor`` decodes
the way the model was configured (greedy or beam).
"""

from __future__ import annotations

import math
from functools import cached_property

import torch
import torch.nn.functional as F

from textrec_attention.decoder import Memory
from textrec_attention.network import LineAttention
from textrec_core import TorchModel
from textrec_core.mapping import BLANK, END, PAD, START
from textrec_core.metrics import character_error_rate, word_error_rate
from textrec_core.protocols import Dataset, Split

DECODERS = ("greedy", "beam")
#: Beam search decodes at most this many hypotheses (images x beam_width) at once, to bound its memory.
BEAM_ROWS = 1024


def teacher_forcing(labels: torch.Tensor, *, pad: int, start: int, end: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoder inputs and targets ``(B, n + 1)`` from labels ``(B, max_length)``, ``n`` the longest text.

    ``inputs`` are ``<start> t1 .. tn`` and ``targets`` ``t1 .. tn <end>``, both followed by
    ``<pad>``. ``ValueError`` when a label has text after a ``<pad>``.
    """
    text = labels != pad
    lengths = text.sum(dim=1)
    positions = torch.arange(labels.shape[1], device=labels.device)
    if not torch.equal(text, positions < lengths.unsqueeze(1)):
        raise ValueError("labels must be the text, then <pad> to the end; some have text after a <pad>")
    longest = int(lengths.max()) if labels.shape[0] else 0
    column = (labels.shape[0], 1)
    inputs = torch.cat([labels.new_full(column, start), labels[:, :longest]], dim=1)
    targets = torch.cat([labels[:, :longest], labels.new_full(column, pad)], dim=1)
    targets.scatter_(1, lengths.unsqueeze(1), end)
    return inputs, targets


class LineModelAttention(TorchModel):
    """Reads lines with ``line_attention``; metrics ``loss``, ``cer``, ``wer`` (and ``cer_greedy``)."""

    name = "LineModelAttention"
    predictor = "LinePredictor"
    variable_width = True
    def __init__(self, dataset: Dataset, network: torch.nn.Module, decoder: str = "greedy",
                 beam_width: int = 5, ctc_weight: float = 0.3) -> None:
        super().__init__(dataset, network)
        if not isinstance(network, LineAttention):
            raise ValueError(f"LineModelAttention needs an encoder-decoder network such as line_attention, "
                             f"got {type(network).__name__}")
        missing = [token for token in (PAD, START, END, BLANK) if token not in self.mapping]
        if missing:
            raise ValueError(f"LineModelAttention needs {', '.join(missing)} in the label mapping; "
                             f"{self.mapping!r} lacks them")
        if (network.start_index, network.end_index) != (self.mapping.index(START), self.mapping.index(END)):
            raise ValueError("the network's <start> and <end> indices differ from the dataset's mapping")
        if len(self.shapes.output_shape) != 1:
            raise ValueError(f"LineModelAttention reads labels of shape (max_length,), got {self.shapes.output_shape}")
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(map(repr, DECODERS))}, got {decoder!r}")
        if beam_width < 1:
            raise ValueError(f"beam_width must be at least 1, got {beam_width}")
        if not 0.0 <= ctc_weight <= 1.0:
            raise ValueError(f"ctc_weight must lie in [0, 1], got {ctc_weight}")
        self.decoder = decoder
        self.beam_width = beam_width
        self.ctc_weight = ctc_weight

    # Looked up once, on first use.
    @cached_property
    def _pad(self) -> int:
        return self.mapping.index(PAD)

    @cached_property
    def _end(self) -> int:
        return self.mapping.index(END)

    def _teacher_forcing(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return teacher_forcing(labels, pad=self._pad, start=self.mapping.index(START), end=self._end)

    def _read(self, tokens: list[int], log_probs: list[float]) -> tuple[str, float]:
        """Text and confidence of decoded tokens; the text stops at the first ``<end>``, the confidence counts it."""
        length = tokens.index(self._end) + 1 if self._end in tokens else len(tokens)
        text = self.mapping.spell(tokens[:length])
        return text, math.exp(sum(log_probs[:length]) / length)

    def _read_rows(self, tokens: torch.Tensor, log_probs: torch.Tensor) -> list[tuple[str, float]]:
        return [self._read(row, row_log_probs) for row, row_log_probs in zip(tokens.tolist(), log_probs.tolist())]

    def _decode(self, memory: Memory, decoder: str) -> list[tuple[str, float]]:
        """Text and confidence of each line of an encoded ``memory``, read with ``decoder``."""
        if decoder == "greedy":
            return self._read_rows(*self.network.greedy(memory))
        rows = max(1, BEAM_ROWS // self.beam_width)
        return [self._read(hypothesis.tokens, hypothesis.log_probs)
                for start in range(0, memory.mask.shape[0], rows)
                for hypothesis in self.network.beam(memory.rows(start, start + rows), self.beam_width)]

    def _cross_entropy(self, logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        return F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=self._pad, reduction=reduction)

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per target token of teacher-forced ``logits`` (the network's output for
        ``teacher_forcing(labels)``'s inputs) against its targets."""
        return self._cross_entropy(logits, self._teacher_forcing(labels)[1])

    def training_loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The decoder's cross-entropy, mixed with the frames' CTC loss by ``ctc_weight``."""
        inputs, targets = self._teacher_forcing(labels)
        memory = self.network.encode(images)
        loss = self._cross_entropy(self.network.teach(memory, inputs), targets)
        if not self.ctc_weight:
            return loss
        return (1 - self.ctc_weight) * loss + self.ctc_weight * self._ctc_loss(memory, labels)

    def _ctc_loss(self, memory: Memory, labels: torch.Tensor) -> torch.Tensor:
        """Mean CTC loss per target character of the network's ``frame_logits`` over each line's real frames."""
        text = labels != self._pad
        log_probs = self.network.frame_logits(memory).float().log_softmax(dim=-1)
        return F.ctc_loss(log_probs.transpose(0, 1), labels[text], memory.mask.sum(dim=1), text.sum(dim=1),
                          blank=self.mapping.index(BLANK), zero_infinity=True)

    @torch.inference_mode()
    def evaluate(self, split: Split, batch_size: int = 1024) -> dict[str, float]:
        """``loss``, ``cer``, ``wer`` and, decoding with beam search, ``cer_greedy``; see the module docstring."""
        self.network.eval()
        loss, target_tokens = 0.0, 0
        truths: list[str] = []
        decoders = [self.decoder] + (["greedy"] if self.decoder != "greedy" else [])
        readings: dict[str, list[str]] = {decoder: [] for decoder in decoders}
        for images, labels in split.batches(batch_size):
            images, labels = images.to(self.device), labels.to(self.device)
            inputs, targets = self._teacher_forcing(labels)
            memory = self.network.encode(images)
            loss += self._cross_entropy(self.network.teach(memory, inputs), targets, reduction="sum").item()
            target_tokens += int((targets != self._pad).sum())
            truths += self.label_text(labels)
            for decoder, texts in readings.items():
                texts += [text for text, _ in self._decode(memory, decoder)]
        metrics = {"loss": loss / max(target_tokens, 1),
                   "cer": character_error_rate(readings[self.decoder], truths),
                   "wer": word_error_rate(readings[self.decoder], truths)}
        if self.decoder != "greedy":
            metrics["cer_greedy"] = character_error_rate(readings["greedy"], truths)
        return metrics

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence of each image of ``images`` ``(B, H, W)``, decoded with the configured decoder."""
        self.network.eval()
        return self._decode(self.network.encode(images.to(self.device)), self.decoder)

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        """Reads logits ``(B, L, C)`` (e.g. teacher-forced): the most probable token at each position,
        text and confidence as ``predict`` reads decoded tokens."""
        log_probs, tokens = logits.float().log_softmax(dim=-1).max(dim=-1)
        return self._read_rows(tokens, log_probs)

    def label_text(self, labels: torch.Tensor) -> list[str]:
        """The texts of labels ``(B, max_length)``: their tokens, ``<pad>`` dropped."""
        return [self.mapping.spell(row) for row in labels.tolist()]
