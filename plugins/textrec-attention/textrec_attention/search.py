"""Autoregressive search: greedy decoding and beam search over any step function.

Both drive a :data:`Step` ``step(tokens, state) -> (log_probs, state)``: ``tokens`` is the
``(N,)`` batch of previous tokens (``start`` at first), ``state`` a tensor or (nested) tuple of
tensors whose first dimension is N, ``log_probs`` the ``(N, C)`` log-probabilities of the next token
(``-inf`` for a token that may not come). A sequence ends with the ``end`` token or after
``max_length`` tokens, ``end`` included.

Score. A finished sequence is scored by the mean log-probability of its tokens, ``end``
included: the log of the geometric mean of their probabilities, which is what the models report
as confidence. The plain sum (the sequence's log-probability) would favour short readings: it
falls with every token, so it prefers a reading that leaves out a doubtful character.

Beam search keeps, per item, up to ``beam_width`` live hypotheses, all the same length, so that
ranking them by their summed log-probability ranks them by score too. Each step takes the
``beam_width`` best one-token extensions of the live hypotheses: those ending with ``end`` are
finished and put aside (finished hypotheses are kept, never dropped), the others are the next
step's live hypotheses (a beam that lost some to ``end`` refills at the next step). At
``max_length`` the live hypotheses count as finished as they are, without ``end``. The result is
the finished hypothesis with the best score. An item's search stops early only when it is
decided: when even a live hypothesis whose every later token had probability 1 could not
overtake the best finished one. With ``beam_width`` 1 this is greedy decoding; a beam wide
enough to hold every sequence is an exhaustive search. (A narrow beam may still return a reading
that scores below greedy's: the greedy prefix can fall out of the beam.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

#: A tensor, or a tuple of tensors and nested tuples of them, each with one row per sequence.
SearchState = torch.Tensor | tuple["SearchState", ...]
Step = Callable[[torch.Tensor, SearchState], tuple[torch.Tensor, SearchState]]


class Hypothesis(NamedTuple):
    """Decoded ``tokens`` (ending with ``end`` unless cut at ``max_length``) and their ``log_probs``."""

    tokens: list[int]
    log_probs: list[float]

    @property
    def score(self) -> float:
        """The mean token log-probability (see the module docstring)."""
        return sum(self.log_probs) / len(self.log_probs)


def select_rows(state: SearchState, rows: torch.Tensor) -> SearchState:
    """``state`` (a tensor or a nested tuple of them) at ``rows`` along the first dimension."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, rows)
    return tuple(select_rows(part, rows) for part in state)


def _check_max_length(max_length: int) -> None:
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1 (the <end> token), got {max_length}")


def greedy_search(step: Step, state: SearchState, *, batch_size: int, start: int, end: int, device: torch.device,
                  max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The most probable token at every step: ``tokens`` ``(N, L)`` and their ``log_probs`` ``(N, L)``.

    ``L <= max_length`` is the step at which the last sequence ended. After a sequence's ``end``
    its row holds ``end`` tokens with log-probability 0.
    """
    _check_max_length(max_length)
    tokens = torch.full((batch_size,), start, dtype=torch.long, device=device)
    finished = torch.zeros(batch_size, dtype=torch.bool, device=device)
    all_tokens, all_log_probs = [], []
    for _ in range(max_length):
        log_probs, state = step(tokens, state)
        best, tokens = log_probs.max(dim=1)
        tokens = tokens.masked_fill(finished, end)
        all_tokens.append(tokens)
        all_log_probs.append(best.float().masked_fill(finished, 0.0))
        finished |= tokens == end
        if finished.all():
            break
    return torch.stack(all_tokens, dim=1), torch.stack(all_log_probs, dim=1)


def beam_search(step: Step, state: SearchState, *, batch_size: int, beam_width: int, start: int, end: int,
                device: torch.device, max_length: int) -> list[Hypothesis]:
    """The best-scoring hypothesis found for each of ``batch_size`` items (see the module docstring).

    ``state`` holds ``batch_size * beam_width`` rows, row ``i * beam_width + k`` for beam ``k`` of
    item ``i``: the items' initial states, each repeated ``beam_width`` times.
    """
    _check_max_length(max_length)
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    width = beam_width
    scores = torch.full((batch_size, width), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis, the empty one, per item
    history = torch.zeros(batch_size, width, 0, dtype=torch.long, device=device)
    history_log_probs = torch.zeros(batch_size, width, 0, device=device)
    tokens = torch.full((batch_size * width,), start, dtype=torch.long, device=device)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
    best_finished = torch.full((batch_size,), float("-inf"), device=device)
    first_row = torch.arange(batch_size, device=device).unsqueeze(1) * width
    for _ in range(max_length):
        log_probs, state = step(tokens, state)
        log_probs = log_probs.float().view(batch_size, -1)  # (items, beams * classes), beam-major
        classes = log_probs.shape[1] // width
        top, flat = (scores.repeat_interleave(classes, dim=1) + log_probs).topk(width, dim=1)
        parents, token = flat // classes, flat % classes
        token_log_probs = log_probs.gather(1, flat)
        history = torch.cat([history.gather(1, parents.unsqueeze(2).expand_as(history)), token.unsqueeze(2)], dim=2)
        history_log_probs = torch.cat([history_log_probs.gather(1, parents.unsqueeze(2).expand_as(history_log_probs)),
                                       token_log_probs.unsqueeze(2)], dim=2)
        ending = top.isfinite() & (token == end)
        for item, beam in ending.nonzero().tolist():
            hypothesis = Hypothesis(history[item, beam].tolist(), history_log_probs[item, beam].tolist())
            finished[item].append(hypothesis)
            best_finished[item] = max(best_finished[item].item(), hypothesis.score)
        scores = top.masked_fill(ending, float("-inf"))
        # A live hypothesis's final score is at most its sum over max_length (its later tokens add
        # log-probabilities <= 0 and it ends within max_length tokens): once that cannot beat the
        # best finished hypothesis, no hypothesis of the item can, and its search stops.
        hopeless = ~(scores.amax(dim=1) / max_length > best_finished)
        scores = scores.masked_fill(hopeless.unsqueeze(1), float("-inf"))
        if not scores.isfinite().any():
            break
        tokens = token.reshape(-1)
        state = select_rows(state, (first_row + parents).view(-1))
    for item, beam in scores.isfinite().nonzero().tolist():  # cut at max_length
        finished[item].append(Hypothesis(history[item, beam].tolist(), history_log_probs[item, beam].tolist()))
    return [max(hypotheses, key=lambda hypothesis: hypothesis.score) for hypotheses in finished]
