"""Joint CTC/attention decoding: the CTC head's prefix scores mixed into every decoding step.

An attention decoder may lose its place on a line unlike its training lines: it reads a word
twice, or runs on past the end. A CTC reading cannot: it is an alignment of the text to the
frames, left to right. :func:`joint_step` wraps a decoder's :data:`~textrec_attention.search.Step`
so that the log-probability of each next token ``c`` after a prefix ``g`` becomes::

    weight * (log psi(g + c) - log psi(g)) + (1 - weight) * log p_attention(c | g)

where ``psi(h)`` is the CTC prefix probability of ``h``, the probability under the frames' CTC
posteriors that a line's reading starts with ``h``, and ``psi(g + <end>)`` is the probability
that it is exactly ``g`` (Watanabe, Hori, Kim, Hershey and Hayashi, 2017: hybrid CTC/attention
decoding). Summed over a reading, the CTC terms are the reading's CTC log-probability, so the
search's score is a weighted mean of the two models' log-probabilities, each term at most 0: a
token's joint probability stays in [0, 1] and the models' confidences keep their meaning.

The prefix probability follows Graves's forward variables of the prefix, ``r_t^n(g)`` (paths
over frames ``0..t`` that read ``g`` and end in its last character) and ``r_t^b(g)`` (ending in
blank); with ``phi_t = r_t^b(g) + r_t^n(g)`` (the second term left out when ``c`` repeats ``g``'s
last character, which needs a blank between)::

    psi(g + c) = sum_t phi_{t-1} p_t(c)            (plus p_0(c) for the empty g)
    r_t^n(g + c) = (r_{t-1}^n(g + c) + phi_{t-1}) p_t(c)
    r_t^b(g + c) = (r_{t-1}^b(g + c) + r_{t-1}^n(g + c)) p_t(blank)

Every candidate's ``psi`` is one sum over the frames; the recursions, needed only for the token the
search takes, are solved in closed form with cumulative log-sums, in float64. Frames past a line's
length (``lengths``) take no part.
"""

from __future__ import annotations

import torch

from textrec_attention.search import SearchState, Step

NEGATIVE_INFINITY = float("-inf")


def _phi(forward: torch.Tensor, repeats: torch.Tensor) -> torch.Tensor:
    """``phi_t`` ``(N, K, T)`` of candidates whose ``repeats`` ``(N, K)`` says they repeat the last character."""
    nonblank = forward[:, None, :, 0].expand(-1, repeats.shape[1], -1)
    nonblank = nonblank.masked_fill(repeats.unsqueeze(2), NEGATIVE_INFINITY)
    return torch.logaddexp(forward[:, None, :, 1], nonblank)


def prefix_scores(forward: torch.Tensor, candidates: torch.Tensor, repeats: torch.Tensor, empty: torch.Tensor,
                  valid: torch.Tensor) -> torch.Tensor:
    """``log psi(g + c)`` ``(N, K)`` for the candidates' frame log-probabilities ``candidates`` ``(N, K, T)``.

    ``forward`` ``(N, T, 2)`` holds ``log r^n`` and ``log r^b`` of each row's prefix ``g``; ``repeats``
    ``(N, K)`` whether a candidate is ``g``'s last character; ``empty`` ``(N,)`` whether ``g`` is
    empty; ``valid`` ``(N, T)`` the line's real frames.
    """
    terms = _phi(forward, repeats)[:, :, :-1] + candidates[:, :, 1:]
    first = candidates[:, :, :1].masked_fill(~empty[:, None, None], NEGATIVE_INFINITY)
    terms = torch.cat([first, terms], dim=2).masked_fill(~valid[:, None, :], NEGATIVE_INFINITY)
    return terms.logsumexp(dim=2)


def extend(forward: torch.Tensor, token_frames: torch.Tensor, blank_frames: torch.Tensor, repeats: torch.Tensor,
           empty: torch.Tensor) -> torch.Tensor:
    """The forward variables ``(N, T, 2)`` of ``g + c`` from those of ``g`` (``forward``), ``c``'s frame
    log-probabilities ``token_frames`` ``(N, T)``, the blank's ``blank_frames`` ``(N, T)``, whether ``c``
    repeats ``g``'s last character (``repeats``, ``(N,)``) and whether ``g`` is empty (``empty``, ``(N,)``)."""
    phi = _phi(forward, repeats.unsqueeze(1)).squeeze(1)
    token_sums = token_frames.cumsum(dim=1)
    start = torch.zeros_like(phi[:, :1]).masked_fill(~empty.unsqueeze(1), NEGATIVE_INFINITY)
    nonblank = token_sums + torch.cat([start, phi[:, :-1] - token_sums[:, :-1]], dim=1).logcumsumexp(dim=1)
    blank_sums = blank_frames.cumsum(dim=1)
    never = torch.full_like(start, NEGATIVE_INFINITY)
    blank = blank_sums + torch.cat([never, nonblank[:, :-1] - blank_sums[:, :-1]], dim=1).logcumsumexp(dim=1)
    return torch.stack([nonblank, blank], dim=2)


def empty_prefix(frames: torch.Tensor, blank: int) -> torch.Tensor:
    """The forward variables ``(N, T, 2)`` of the empty prefix: no character read, blanks throughout."""
    blank_sums = frames[:, :, blank].cumsum(dim=1)
    return torch.stack([torch.full_like(blank_sums, NEGATIVE_INFINITY), blank_sums], dim=2)


def joint_step(step: Step, state: SearchState, frame_log_probs: torch.Tensor, lengths: torch.Tensor, *,
               weight: float, blank: int, start: int, end: int) -> tuple[Step, SearchState]:
    """The joint step function over the attention ``step`` and its initial ``state``, and the joint
    initial state (``(state, forward, psi, last, scores)``; the search's ``select_rows`` reorders it);
    with ``weight`` 0, ``step`` and ``state`` themselves.

    ``frame_log_probs`` ``(N, T, C)`` are the CTC head's log-probabilities per frame, one row per search
    row; ``lengths`` ``(N,)`` the rows' real frames; ``weight`` in [0, 1) the CTC share; ``blank`` the
    CTC blank; ``start`` the token the search begins with and ``end`` the one that ends a reading.
    """
    if not 0 <= weight < 1:
        raise ValueError(f"weight must be in [0, 1), got {weight}")
    if not weight:
        return step, state
    frames = frame_log_probs.double()
    rows, width, classes = frames.shape
    valid = torch.arange(width, device=frames.device) < lengths.unsqueeze(1)
    frames = frames.masked_fill(~valid.unsqueeze(2), 0.0)
    by_class = frames.transpose(1, 2)  # (N, C, T)
    row_index = torch.arange(rows, device=frames.device)
    last_frame = (lengths - 1).clamp(min=0)
    classes_index = torch.arange(classes, device=frames.device)

    def joint(tokens: torch.Tensor, joint_state: SearchState) -> tuple[torch.Tensor, SearchState]:
        if tokens.shape[0] != rows:
            raise ValueError(f"{tokens.shape[0]} rows of tokens for {rows} rows of frames")
        attention_state, forward, psi, last, scores = joint_state
        reads = (tokens != start) & (tokens != end)
        if reads.any():  # the prefix grows by the token taken, whose psi the last step scored
            extended = extend(forward, by_class[row_index, tokens], frames[:, :, blank], tokens == last, last == start)
            forward = torch.where(reads[:, None, None], extended, forward)
            psi = torch.where(reads, scores[row_index, tokens], psi)
            last = torch.where(reads, tokens, last)
        attention, attention_state = step(tokens, attention_state)
        scores = prefix_scores(forward, by_class, classes_index == last.unsqueeze(1), last == start, valid)
        scores[:, end] = forward[row_index, last_frame].logsumexp(dim=1)
        increments = (scores - psi.clamp(min=torch.finfo(psi.dtype).min).unsqueeze(1)).to(attention.dtype)
        mixed = (weight * increments + (1 - weight) * attention).masked_fill(attention == NEGATIVE_INFINITY,
                                                                             NEGATIVE_INFINITY)
        return mixed, (attention_state, forward, psi, last, scores)

    initial = (state, empty_prefix(frames, blank), frames.new_zeros(rows),
               torch.full((rows,), start, dtype=torch.long, device=frames.device), frames.new_zeros(rows, classes))
    return joint, initial
