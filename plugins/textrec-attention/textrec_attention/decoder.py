"""The decoder: a GRU that reads the encoder's frames through attention, one token at a time.

One step, from the previous token ``y`` and the state ``(h, a, w)`` (Luong et al. 2015 with input
feeding; Bahdanau's additive score with Chorowski et al.'s location features)::

    h' = GRUCell([embed(y); a], h)                          the recurrent state
    f  = conv1d(w)                                          where the last step looked, per frame
    w' = softmax_t(v . tanh(K m_t + Q h' + U f_t))          attention weights over the real frames m_t
    a' = tanh(W [sum_t w'_t m_t; h'])                       the attentional state, fed to the next step
    logits = classifier(dropout(a'))

The location features (:data:`LOCATION_FILTERS` filters :data:`LOCATION_RADIUS` frames either
side of each frame) let a step look just right of where the last one looked, the way a line is
read; the first step's ``w`` is all on the first frame, the left end of the line. The keys
``K m_t`` are computed once per image (:meth:`AttentionDecoder.attend_to`) and reused at every
step. The initial ``h`` is a projection of the mean of the real frames; the initial ``a`` is
zero. Padding frames get zero attention weight.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from textrec_attention.encoder import Frames

#: Filters over the previous attention weights, and how many frames either side of a frame they see.
LOCATION_FILTERS = 8
LOCATION_RADIUS = 4
#: ``(h, a, w)``: the recurrent state, the attentional state and the attention weights of the last step.
State = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


class Memory(NamedTuple):
    """What every decoding step reads: ``values`` ``(N, T, E)``, their attention ``keys`` ``(N, T, A)``
    and ``mask`` ``(N, T)``."""

    values: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor

    def rows(self, start: int, stop: int) -> Memory:
        """Rows ``start`` to ``stop`` (exclusive) of every tensor."""
        return Memory(*(tensor[start:stop] for tensor in self))

    def repeat(self, times: int) -> Memory:
        """Each row ``times`` times in a row (row ``i * times + k`` is a copy of row ``i``), e.g. one per beam."""
        return Memory(*(tensor.repeat_interleave(times, dim=0) for tensor in self))


class AttentionDecoder(nn.Module):
    """See the module docstring. ``forward`` is teacher forcing; ``step`` is one decoding step."""

    #: The token embedding's rows and the classifier's rows are the alphabet's tokens
    #: (:class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"embedding.weight": 0, "classifier.1.weight": 0, "classifier.1.bias": 0}

    def __init__(self, num_classes: int, memory_size: int, *, decoder_size: int, embedding_size: int,
                 dropout: float) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_classes, embedding_size)
        self.initial = nn.Linear(memory_size, decoder_size)
        self.cell = nn.GRUCell(embedding_size + decoder_size, decoder_size)
        self.key = nn.Linear(memory_size, decoder_size, bias=False)
        self.query = nn.Linear(decoder_size, decoder_size)
        self.score = nn.Linear(decoder_size, 1, bias=False)
        self.location = nn.Conv1d(1, LOCATION_FILTERS, 2 * LOCATION_RADIUS + 1, padding=LOCATION_RADIUS, bias=False)
        self.location_key = nn.Linear(LOCATION_FILTERS, decoder_size, bias=False)
        self.combine = nn.Linear(memory_size + decoder_size, decoder_size)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(decoder_size, num_classes))

    def attend_to(self, frames: Frames) -> Memory:
        """The memory of encoded frames, with their attention keys."""
        return Memory(frames.values, self.key(frames.values), frames.mask)

    def initial_state(self, memory: Memory) -> State:
        mask = memory.mask.unsqueeze(2).to(memory.values.dtype)
        mean = (memory.values * mask).sum(dim=1) / mask.sum(dim=1)
        hidden = torch.tanh(self.initial(mean))
        weights = torch.zeros(memory.mask.shape, device=hidden.device)
        weights[:, 0] = 1.0
        return hidden, torch.zeros_like(hidden), weights

    def _attend(self, memory: Memory, hidden: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The context vector ``(N, E)`` for ``hidden`` and the new attention weights ``(N, T)``."""
        location = self.location_key(self.location(weights.unsqueeze(1).to(hidden.dtype)).transpose(1, 2))
        energies = self.score(torch.tanh(memory.keys + self.query(hidden).unsqueeze(1) + location)).squeeze(2)
        weights = energies.float().masked_fill(~memory.mask, float("-inf")).softmax(dim=1)
        return torch.bmm(weights.unsqueeze(1).to(memory.values.dtype), memory.values).squeeze(1), weights

    def _advance(self, memory: Memory, tokens: torch.Tensor, state: State) -> State:
        """The state after reading ``tokens`` ``(N,)``."""
        hidden, attentional, weights = state
        hidden = self.cell(torch.cat([self.embedding(tokens), attentional], dim=1), hidden)
        context, weights = self._attend(memory, hidden, weights)
        return hidden, torch.tanh(self.combine(torch.cat([context, hidden], dim=1))), weights

    def forward(self, memory: Memory, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits ``(N, L, C)`` of the token after each of ``tokens`` ``(N, L)``."""
        state = self.initial_state(memory)
        attentional = []
        for column in tokens.unbind(dim=1):
            state = self._advance(memory, column, state)
            attentional.append(state[1])
        return self.classifier(torch.stack(attentional, dim=1))

    def step(self, memory: Memory, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One decoding step: the logits ``(N, C)`` of the next token after ``tokens`` ``(N,)``, and the new state."""
        state = self._advance(memory, tokens, state)
        return self.classifier(state[1]), state
