"""CTC decoding: reading a label sequence from per-frame class log-probabilities.

A CTC network scores every class, the blank included, at each of ``T`` frames. A *path* picks
one class per frame; it spells the labelling obtained by merging runs of the same class and then
dropping blanks, so ``a a - a b`` (``-`` the blank) spells ``aab``: a repeated character needs a
blank between its two occurrences. The probability of a labelling is the sum over every path
spelling it.

* :func:`greedy_decode` (best path): the labelling of the single most probable path, the argmax
  of each frame. Fast, and usually right, but not always the most probable labelling.
* :func:`beam_decode` (prefix beam search): keeps the ``beam_width`` most probable prefixes,
  each with the probability of the paths seen so far that spell it ending in a blank and ending
  in a character, and so sums over alignments as it goes. It can find a labelling that no
  single path makes best (see the tests). Given ``extension_scores``, it adds a score to every
  extension of a prefix by a character (shallow fusion with a language model: its weighted
  log-probability of the character after the prefix, plus a bonus per character).

Inputs are log-probabilities ``(T, C)`` (a ``torch.Tensor`` or a numpy array, e.g.
``logits.log_softmax(-1)``); the ``*_batch`` helpers take ``(B, T, C)``. Outputs are lists of
class indices, blanks removed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

LogProbs = torch.Tensor | np.ndarray
#: Scores ``(C,)`` added to the extensions of a prefix (its class indices) by each class.
ExtensionScores = Callable[[tuple[int, ...]], np.ndarray]


def _check(log_probs: LogProbs, dims: int, blank: int) -> None:
    if log_probs.ndim != dims:
        layout = "(T, C)" if dims == 2 else "(B, T, C)"
        raise ValueError(f"expected log-probabilities {layout}, got shape {tuple(log_probs.shape)}")
    if not 0 <= blank < log_probs.shape[-1]:
        raise ValueError(f"blank index {blank} is not one of the {log_probs.shape[-1]} classes")


def greedy_decode_batch(log_probs: LogProbs, blank: int, lengths: torch.Tensor | None = None) -> list[list[int]]:
    """Best-path decoding of ``(B, T, C)``: for each sequence, the argmax class of every frame,
    runs of the same class merged, blanks dropped. Ties go to the lowest class index. With
    ``lengths`` ``(B,)``, sequence ``i`` is its first ``lengths[i]`` frames only."""
    _check(log_probs, 3, blank)
    best = torch.as_tensor(log_probs).argmax(dim=-1)
    changed = torch.ones_like(best, dtype=torch.bool)
    changed[:, 1:] = best[:, 1:] != best[:, :-1]
    keep = changed & (best != blank)
    if lengths is not None:
        keep &= torch.arange(best.shape[1], device=best.device) < lengths.to(best.device)[:, None]
    return [row[mask].tolist() for row, mask in zip(best, keep)]


def greedy_decode(log_probs: LogProbs, blank: int) -> list[int]:
    """Best-path decoding of one sequence ``(T, C)``; see :func:`greedy_decode_batch`."""
    _check(log_probs, 2, blank)
    return greedy_decode_batch(torch.as_tensor(log_probs)[None], blank)[0]


def beam_decode(log_probs: LogProbs, blank: int, beam_width: int,
                extension_scores: ExtensionScores | None = None) -> tuple[list[int], float]:
    """CTC prefix beam search over one sequence ``(T, C)``.

    Returns the most probable labelling found and its log-probability: the log of the summed
    probability of the paths spelling it that stayed in the beam (a lower bound of the
    labelling's true probability, equal to it when nothing was pruned). With
    ``extension_scores``, every extension of a prefix ``y`` by a character ``c`` also adds
    ``extension_scores(y)[c]``, and the score returned includes those additions.

    Each prefix carries two log-probabilities, of its paths ending in a blank (``p_b``) and in
    its last character (``p_nb``). At every frame a prefix ``y`` with last character ``e``

    * stays ``y`` by a blank (into ``p_b``: ``p_b + p_nb`` times the blank's probability), or by
      repeating ``e`` (into ``p_nb``: only ``p_nb``, a repeat merges into ``e``);
    * extends to ``y + c`` (into ``p_nb``): from both ``p_b`` and ``p_nb`` when ``c != e``, but
      only from ``p_b`` when ``c == e``, since ``e e`` without a blank merges into one ``e``.

    Where the extension of one prefix is another prefix in the beam, their probabilities add.
    The ``beam_width`` prefixes of highest ``p_b + p_nb`` survive the frame; ties keep the
    earlier candidate (prefixes that stay before extensions, each in beam order, then by class index).

    Pruning, for speed: each frame extends prefixes only by its ``beam_width`` most probable
    non-blank classes (a prefix's repeat of its own last character is always scored). This is
    the usual approximation: a less probable class could enter the beam only by outscoring
    ``beam_width`` extensions by more probable ones. Needs at least one class besides the blank.
    """
    _check(log_probs, 2, blank)
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    if log_probs.shape[1] < 2:
        raise ValueError(f"beam search needs a class besides the blank, got {log_probs.shape[1]} classes")
    frames = torch.as_tensor(log_probs).detach().to("cpu", torch.float64).numpy()
    num_classes = frames.shape[1]
    width = min(beam_width, num_classes - 1)
    # A trailing -inf column: index -1 scores "repeat the last character" of the empty prefix.
    frames = np.concatenate([frames, np.full((frames.shape[0], 1), -np.inf)], axis=1)
    characters = np.delete(np.arange(num_classes), blank)
    top = np.argpartition(-frames[:, characters], width - 1, axis=1)[:, :width]
    candidates = np.sort(characters[top], axis=1)

    prefixes: list[tuple[int, ...]] = [()]
    p_b, p_nb = np.array([0.0]), np.array([-np.inf])
    last = np.array([-1])
    for frame, chars in zip(frames, candidates):
        total = np.logaddexp(p_b, p_nb)
        stay_b = total + frame[blank]
        stay_nb = p_nb + frame[last]
        extend = np.where(chars[None, :] == last[:, None], p_b[:, None], total[:, None]) + frame[chars][None, :]
        bonus = None
        if extension_scores is not None:
            bonus = np.stack([extension_scores(prefix) for prefix in prefixes])
            extend += bonus[:, chars]
        # Merge extensions that land on a prefix already in the beam into that prefix's entry.
        index = {prefix: i for i, prefix in enumerate(prefixes)}
        column = {char: k for k, char in enumerate(chars.tolist())}
        for i, prefix in enumerate(prefixes):
            parent = index.get(prefix[:-1]) if prefix else None
            if parent is None:
                continue
            char = prefix[-1]
            stay_nb[i] = np.logaddexp(stay_nb[i], (p_b[parent] if char == last[parent] else total[parent])
                                      + frame[char] + (bonus[parent, char] if bonus is not None else 0.0))
            if char in column:
                extend[parent, column[char]] = -np.inf
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb), extend.ravel()])
        order = np.argsort(-scores, kind="stable")[:beam_width]
        order = order[scores[order] > -np.inf]
        stays, extensions = order[order < len(prefixes)], order[order >= len(prefixes)] - len(prefixes)
        rows, cols = np.divmod(extensions, width)
        new_chars = chars[cols]
        prefixes = [prefixes[i] for i in stays.tolist()] + [
            prefixes[r] + (c,) for r, c in zip(rows.tolist(), new_chars.tolist())
        ]
        p_b = np.concatenate([stay_b[stays], np.full(len(extensions), -np.inf)])
        p_nb = np.concatenate([stay_nb[stays], extend[rows, cols]])
        last = np.concatenate([last[stays], new_chars])
    total = np.logaddexp(p_b, p_nb)
    best = int(np.argmax(total))
    return list(prefixes[best]), float(total[best])


def beam_decode_batch(log_probs: LogProbs, blank: int, beam_width: int, lengths: torch.Tensor | None = None,
                      extension_scores: ExtensionScores | None = None) -> list[tuple[list[int], float]]:
    """:func:`beam_decode` of each sequence of ``(B, T, C)``; with ``lengths`` ``(B,)``, of its
    first ``lengths[i]`` frames."""
    _check(log_probs, 3, blank)
    frames = [log_probs.shape[1]] * log_probs.shape[0] if lengths is None else lengths.tolist()
    return [beam_decode(sequence[:length], blank, beam_width, extension_scores)
            for sequence, length in zip(log_probs, frames)]
