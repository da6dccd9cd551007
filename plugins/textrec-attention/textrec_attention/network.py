"""``line_attention``: an encoder-decoder with attention that reads a text line of any width.

The encoder (:mod:`textrec_attention.encoder`) turns the image into frames, one per 8 pixels of
line, optionally run through a bidirectional LSTM or a transformer encoder; the decoder
(:mod:`textrec_attention.decoder`) writes the text one token of the dataset's alphabet
(``shapes.mapping``, which must hold ``<pad>``, ``<blank>``, ``<start>`` and ``<end>``) at a
time, attending over the frames. Each image is encoded once per call and the frames reused at
every decoding step.

* ``forward(images, targets_in)``: teacher forcing. ``targets_in`` ``(B, L)`` are the decoder
  inputs, ``<start>`` then the label tokens; the logits ``(B, L, C)`` predict each next token.
* ``decode_greedy(images, max_length)``: the most probable token at each step, until ``<end>``.
* ``decode_beam(images, beam_width, max_length)``: beam search (:mod:`textrec_attention.search`
  documents the search and its length normalisation).
* ``joint(memory, beam_width, weight)``: beam search over the decoder's scores joined with the CTC
  head's prefix scores, ``weight`` the CTC share (:mod:`textrec_attention.joint`); a beam of 1
  reads greedily.
* ``encode(images)`` gives the memory the decoder reads; ``teach``, ``greedy`` and ``beam`` do
  the three above from a memory, so that one encoding serves several readings.
* ``frame_logits(memory)``: per-frame class scores ``(B, T, C)`` of a linear layer over the
  encoder's frames, for an auxiliary CTC loss (``LineModelAttention``'s ``ctc_weight``): it
  teaches the encoder to tell characters apart where they lie, which the attention then finds
  far sooner than from the decoder's loss alone.

Decoding never emits ``<start>``, ``<pad>`` or ``<blank>``: they are never targets, and their
logits are masked out before the softmax. ``max_length`` counts the tokens a decoder may emit,
``<end>`` included; it defaults to ``max_output_length - 1`` (``max_output_length`` counts
``<start>`` too, and its default, ``max_length + 2`` of the dataset's labels, leaves room for a
full-length line and both delimiters).

Images are float ``(B, H, W)``, bright ink on a black (zero) background, of the height the
network was built for and any width; trailing black columns are padding and never reach the
decoder (see :mod:`textrec_attention.encoder`), so a batch of lines padded to its widest reads
as each line alone. The convolution weights are channels-last, which makes oneDNN pick its
faster NHWC kernels on CPU; results are the same up to float rounding.
"""

from __future__ import annotations

import torch
from torch import nn

from textrec_attention.decoder import AttentionDecoder, Memory, State
from textrec_attention.encoder import ENCODERS, FRAME_STRIDE, TRANSFORMER_HEADS, Encoder
from textrec_attention.joint import joint_step
from textrec_attention.search import Hypothesis, Step, beam_search, greedy_search
from textrec_core import CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, END, PAD, START
from textrec_core.services.arguments import check_integer, check_range
from textrec_lines.shapes import check_line_images, check_line_labels, check_tokens

#: The special tokens the network reads or never writes; the alphabet must hold them.
TOKENS = (PAD, BLANK, START, END)


class LineAttention(nn.Module):
    """The ``line_attention`` network over the alphabet ``mapping``; see the module docstring."""

    #: The frame classifier's rows score the alphabet's tokens (the decoder declares its own tensors;
    #: :class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"frame_classifier.weight": 0, "frame_classifier.bias": 0}

    def __init__(self, height: int, mapping: CharacterMapping, *, conv_channels: int, encoder: str, encoder_size: int,
                 encoder_layers: int, decoder_size: int, embedding_size: int, max_output_length: int,
                 dropout: float) -> None:
        super().__init__()
        self.height = height
        self.max_output_length = max_output_length
        num_classes = len(mapping)
        self.start_index, self.end_index = mapping.index(START), mapping.index(END)
        self.blank_index = mapping.index(BLANK)
        self.encoder = Encoder(height, conv_channels=conv_channels, encoder=encoder, encoder_size=encoder_size,
                               encoder_layers=encoder_layers, dropout=dropout)
        self.decoder = AttentionDecoder(num_classes, encoder_size, decoder_size=decoder_size,
                                        embedding_size=embedding_size, dropout=dropout)
        self.frame_classifier = nn.Linear(encoder_size, num_classes)
        never = torch.zeros(num_classes, dtype=torch.bool)
        never[[mapping.index(token) for token in (START, PAD, BLANK)]] = True
        self.register_buffer("never_emitted", never, persistent=False)

    def encode(self, images: torch.Tensor) -> Memory:
        """The decoder's memory of ``images`` ``(B, H, W)``; ``ValueError`` for another height."""
        if images.dim() != 3 or images.shape[1] != self.height:
            raise ValueError(f"line_attention reads images (B, {self.height}, W), got {tuple(images.shape)}")
        return self.decoder.attend_to(self.encoder(images))

    def forward(self, images: torch.Tensor, targets_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits ``(B, L, C)`` of the token after each of ``targets_in`` ``(B, L)``."""
        return self.teach(self.encode(images), targets_in)

    def teach(self, memory: Memory, targets_in: torch.Tensor) -> torch.Tensor:
        """``forward`` from an encoded ``memory``."""
        return self.decoder(memory, targets_in)

    def frame_logits(self, memory: Memory) -> torch.Tensor:
        """Class scores ``(B, T, C)`` of each encoder frame (for CTC; ``memory.mask`` tells the real frames)."""
        return self.frame_classifier(memory.values)

    def _step(self, memory: Memory) -> Step:
        """The search's step function over ``memory``: log-probabilities of the next token, never-emitted ones -inf."""
        def step(tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
            logits, state = self.decoder.step(memory, tokens, state)
            return logits.float().masked_fill(self.never_emitted, float("-inf")).log_softmax(dim=1), state
        return step

    def _max_length(self, max_length: int | None) -> int:
        return self.max_output_length - 1 if max_length is None else max_length

    @torch.no_grad()
    def decode_greedy(self, images: torch.Tensor, max_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy reading: ``tokens`` ``(B, L)`` and their ``log_probs`` ``(B, L)``, ``L <= max_length``.

        Each row ends at its first ``<end>`` (or at ``max_length`` without one); after it, the row
        holds ``<end>`` tokens with log-probability 0.
        """
        return self.greedy(self.encode(images), max_length)

    @torch.no_grad()
    def greedy(self, memory: Memory, max_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``decode_greedy`` from an encoded ``memory``."""
        return greedy_search(self._step(memory), self.decoder.initial_state(memory), batch_size=memory.mask.shape[0],
                             start=self.start_index, end=self.end_index, device=memory.mask.device,
                             max_length=self._max_length(max_length))

    @torch.no_grad()
    def decode_beam(self, images: torch.Tensor, beam_width: int, max_length: int | None = None) -> list[Hypothesis]:
        """Beam search: per image, the best-scoring :class:`~textrec_attention.search.Hypothesis`
        (its tokens, ending with ``<end>`` unless cut at ``max_length``, and their log-probabilities)."""
        return self.beam(self.encode(images), beam_width, max_length)

    @torch.no_grad()
    def beam(self, memory: Memory, beam_width: int, max_length: int | None = None) -> list[Hypothesis]:
        """``decode_beam`` from an encoded ``memory``."""
        return self._search(memory, beam_width, None, max_length)

    @torch.no_grad()
    def joint(self, memory: Memory, beam_width: int, weight: float, max_length: int | None = None) -> list[Hypothesis]:
        """Beam search of ``beam_width`` over the decoder's and the CTC head's scores (``weight`` the
        CTC share, in [0, 1)) from an encoded ``memory``: per line, the best-scoring hypothesis."""
        return self._search(memory, beam_width, weight, max_length)

    def _search(self, memory: Memory, beam_width: int, weight: float | None,
                max_length: int | None) -> list[Hypothesis]:
        if beam_width < 1:
            raise ValueError(f"beam_width must be at least 1, got {beam_width}")
        batch_size = memory.mask.shape[0]
        memory = memory.repeat(beam_width)
        step, state = self._step(memory), self.decoder.initial_state(memory)
        if weight is not None:
            step, state = joint_step(step, state, self.frame_logits(memory).float().log_softmax(dim=2),
                                     memory.mask.sum(dim=1), weight=weight, blank=self.blank_index,
                                     start=self.start_index, end=self.end_index)
        return beam_search(step, state, batch_size=batch_size, beam_width=beam_width, start=self.start_index,
                           end=self.end_index, device=memory.mask.device, max_length=self._max_length(max_length))


def _check(shapes: DataShapes, *, conv_channels: int, encoder: str, encoder_size: int, encoder_layers: int,
           decoder_size: int, embedding_size: int, max_output_length: int, dropout: float) -> None:
    """``ArgumentError`` naming the first impossible setting; ``ValueError`` for data it cannot read."""
    if encoder not in ENCODERS:
        raise ArgumentError("encoder", f"must be one of {', '.join(map(repr, ENCODERS))}, got {encoder!r}")
    sizes = {"conv_channels": conv_channels, "encoder_size": encoder_size, "encoder_layers": encoder_layers,
             "decoder_size": decoder_size, "embedding_size": embedding_size}
    for argument, value in sizes.items():
        check_integer(argument, value)
    if encoder == "lstm" and encoder_size % 2:
        raise ArgumentError("encoder_size", f"the lstm encoder splits it between two directions: it must be even, "
                                            f"got {encoder_size}")
    if encoder == "transformer" and encoder_size % TRANSFORMER_HEADS:
        raise ArgumentError("encoder_size", f"the transformer encoder has {TRANSFORMER_HEADS} heads: it must be a "
                                            f"multiple of {TRANSFORMER_HEADS}, got {encoder_size}")
    if max_output_length < 0 or max_output_length == 1:
        raise ArgumentError("max_output_length", f"counts <start> and <end>: it must be at least 2 (or 0 for the "
                                                 f"labels' max_length + 2), got {max_output_length}")
    check_range("dropout", dropout, 0, 1)
    check_line_images("line_attention", shapes, FRAME_STRIDE)
    check_line_labels("line_attention", shapes)
    check_tokens("line_attention", shapes.mapping, TOKENS)


def line_attention(shapes: DataShapes, *, conv_channels: int = 32, encoder: str = "lstm", encoder_size: int = 128,
                   encoder_layers: int = 1, decoder_size: int = 128, embedding_size: int = 64,
                   max_output_length: int = 0, dropout: float = 0.2) -> nn.Module:
    """The attention encoder-decoder for lines ``shapes.input_shape[0]`` pixels tall and of any width.

    ``encoder`` is ``"lstm"``, ``"transformer"`` or ``"none"``; ``encoder_layers`` is ignored with
    ``"none"``. ``max_output_length`` 0 means the labels' ``max_length + 2``. Every argument is
    checked before anything is built.
    """
    _check(shapes, conv_channels=conv_channels, encoder=encoder, encoder_size=encoder_size,
           encoder_layers=encoder_layers, decoder_size=decoder_size, embedding_size=embedding_size,
           max_output_length=max_output_length, dropout=dropout)
    network = LineAttention(shapes.input_shape[0], shapes.mapping, conv_channels=conv_channels, encoder=encoder,
                            encoder_size=encoder_size, encoder_layers=encoder_layers, decoder_size=decoder_size,
                            embedding_size=embedding_size,
                            max_output_length=max_output_length or shapes.output_shape[0] + 2, dropout=dropout)
    return network.to(memory_format=torch.channels_last)
