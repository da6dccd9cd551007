"""``LineModelAttention``: reads a line autoregressively with an attention encoder-decoder.

Labels are ``(B, max_length)`` indices of the line mapping: the text, then ``<pad>`` to the end.
Teacher forcing (:func:`teacher_forcing`) feeds the decoder ``<start> t1 .. tn`` and trains it
to predict ``t1 .. tn <end>``; positions after ``<end>`` hold ``<pad>``, which the loss ignores.
Both are cut after the batch's longest text, which changes no loss (the decoder reads left to
right and the cut positions are all ignored) and saves the steps.

Auxiliary CTC (``ctc_weight``, default 0.3): training minimises ``(1 - ctc_weight)`` times the
cross-entropy plus ``ctc_weight`` times the CTC loss (:func:`textrec_lines.ctc_loss` with the
mapping's ``<blank>``, per target character, over each line's real frames) of the network's
``frame_logits``, joint CTC-attention training (Kim, Hori and Watanabe, 2017). Attention alone
finds where each character lies only slowly on long lines: on 34-character EMNIST lines it read
the language, not the line, for the first epochs (docs/performance.md has the runs).
``ctc_weight`` 0 trains the decoder's loss alone; the reported ``loss`` is always the decoder's
cross-entropy.

Reading (``predict``) decodes each image with the configured ``decoder``: ``"greedy"``, or
``"beam"`` with ``beam_width`` hypotheses (:mod:`textrec_attention.search`), from the decoder
alone; or ``"joint"`` (greedy) and ``"beam_joint"`` (``beam_width``), whose every step joins the
decoder's scores with the trained CTC head's prefix scores, ``joint_weight`` the CTC share
(:mod:`textrec_attention.joint`): the CTC head keeps the decoder from reading a word twice or
running on past the line's end. They need a CTC head trained (``ctc_weight`` above 0). The text
is the decoded tokens before ``<end>``. ``decode(logits)`` reads given logits (e.g. teacher-forced
ones) the same way, from the most probable token at each position.

Confidence: the geometric mean of the decoded tokens' probabilities, ``<end>`` included
(``exp`` of their mean log-probability), in [0, 1]; with a joint decoder each token's probability
is its joint one. It is the score beam search ranks
hypotheses by, and unlike the product it does not fall just because a line is long.

Metrics (``evaluate``): ``loss``, the teacher-forced cross-entropy per target token (``<end>``
included, ``<pad>`` not) over the split; ``cer`` and ``wer``, the corpus-level character and
word error rates of the decoded texts; with ``decoder="beam"`` also ``cer_greedy``, the greedy
reading's CER, to show what the beam adds (:class:`textrec_lines.DecodingModel`). Each batch is
encoded once for all of them (``evaluation_step``).

A bundle saved by ``textrec-run`` records the model arguments, so ``load_predictor`` decodes
the way the model was configured (greedy or beam).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from textrec_attention.decoder import Memory
from textrec_attention.network import LineAttention
from textrec_attention.search import Hypothesis
from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, END, PAD, START
from textrec_core.model import InferenceData
from textrec_core.protocols import Dataset
from textrec_core.services.arguments import check_range
from textrec_lines import DecodingModel, ctc_loss
from textrec_lines.decoding import DECODERS

#: Beam search decodes at most this many hypotheses (images x beam_width) at once, to bound its memory.
BEAM_ROWS = 1024
#: The decoders that join the CTC head's scores, and the beam width each reads with (None: ``beam_width``).
JOINT_DECODERS = {"joint": 1, "beam_joint": None}


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


class LineModelAttention(DecodingModel):
    """Reads lines with ``line_attention``; metrics ``loss``, ``cer``, ``wer`` (and ``cer_greedy``)."""

    variable_width = True
    required_tokens = (PAD, START, END, BLANK)
    decoders = (*DECODERS, *JOINT_DECODERS)

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module, decoder: str = "greedy",
                 beam_width: int = 5, ctc_weight: float = 0.3, joint_weight: float = 0.3) -> None:
        check_range("ctc_weight", ctc_weight, 0, 1, closed="[]")
        check_range("joint_weight", joint_weight, 0, 1, closed="[)")
        if decoder in JOINT_DECODERS and not ctc_weight:
            raise ArgumentError("decoder", f"{decoder!r} reads with the CTC head, which trains only with ctc_weight "
                                           "above 0; this model's is 0")
        super().__init__(dataset, network, decoder, beam_width)
        if not isinstance(network, LineAttention):
            raise ValueError(f"LineModelAttention needs an encoder-decoder network such as line_attention, "
                             f"got {type(network).__name__}")
        if (network.start_index, network.end_index) != (self.start_index, self.end_index):
            raise ValueError("the network's <start> and <end> indices differ from the dataset's mapping")
        self.ctc_weight = ctc_weight
        self.joint_weight = joint_weight

    @property
    def ratios(self) -> dict[str, tuple[str, str]]:
        """:class:`~textrec_lines.DecodingModel`'s metrics, the loss per target token."""
        return {**super().ratios, "loss": ("loss_sum", "target_tokens")}

    def _teacher_forcing(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return teacher_forcing(labels, pad=self.pad_index, start=self.start_index, end=self.end_index)

    def _read(self, tokens: list[int], log_probs: list[float]) -> tuple[str, float]:
        """Text and confidence of decoded tokens; the text stops at the first ``<end>``, the confidence counts it."""
        length = tokens.index(self.end_index) + 1 if self.end_index in tokens else len(tokens)
        text = self.mapping.spell(tokens[:length])
        return text, math.exp(sum(log_probs[:length]) / length)

    def _read_rows(self, tokens: torch.Tensor, log_probs: torch.Tensor) -> list[tuple[str, float]]:
        return [self._read(row, row_log_probs) for row, row_log_probs in zip(tokens.tolist(), log_probs.tolist())]

    def _decode(self, memory: Memory, decoder: str) -> list[tuple[str, float]]:
        """Text and confidence of each line of an encoded ``memory``, read with ``decoder``."""
        if decoder == "greedy":
            return self._read_rows(*self.network.greedy(memory))
        width = JOINT_DECODERS.get(decoder) or self.beam_width

        def search(rows: Memory) -> list[Hypothesis]:
            if decoder in JOINT_DECODERS:
                return self.network.joint(rows, width, self.joint_weight)
            return self.network.beam(rows, width)

        rows = max(1, BEAM_ROWS // width)
        return [self._read(hypothesis.tokens, hypothesis.log_probs)
                for start in range(0, memory.mask.shape[0], rows)
                for hypothesis in search(memory.rows(start, start + rows))]

    def _cross_entropy(self, logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        return F.cross_entropy(logits.float().transpose(1, 2), targets, ignore_index=self.pad_index,
                               reduction=reduction)

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
        frames_loss = ctc_loss(self.network.frame_logits(memory), self.text_tokens(labels), self.blank_index,
                               input_lengths=memory.mask.sum(dim=1))
        return (1 - self.ctc_weight) * loss + self.ctc_weight * frames_loss

    def evaluation_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """One encoding of the batch serves all its statistics: the teacher-forced cross-entropy sum
        and target-token count, and the edit-distance sums of its readings."""
        inputs, targets = self._teacher_forcing(labels)
        memory = self.network.encode(images)
        cross_entropy = self._cross_entropy(self.network.teach(memory, inputs), targets, reduction="sum")
        return {"loss_sum": cross_entropy.item(), "target_tokens": int((targets != self.pad_index).sum()),
                **self.reading_error_sums(lambda decoder: [text for text, _ in self._decode(memory, decoder)], labels)}

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
