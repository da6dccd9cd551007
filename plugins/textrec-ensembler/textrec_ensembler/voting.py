"""Confidence voting over several models' readings of the same line.

How :func:`vote` combines the readings (characters are Python code points):

- The *pivot* is the reading with the highest mean confidence; an empty reading ranks below every non-empty one, and
  ties go to the earliest reading.
- Every reading is aligned to the pivot by Levenshtein alignment, which cuts it into ``2 * len(pivot) + 1``
  consecutive, possibly empty pieces: a *gap* piece before each pivot character and after the last (what the
  reading inserts there), alternating with one piece per pivot character (the reading's character in its place,
  or nothing). Piece position ``k`` across all readings is segment ``k``.
- On each segment, each distinct piece scores the sum, over the readings proposing it, of the reading's weight times
  its confidence in the piece: the mean of its characters' confidences, or for an empty piece the reading's mean
  confidence (1 for an empty reading). The highest score wins; ties go to the pivot's piece, then to the piece that
  sorts first, so the result does not depend on the order of the non-pivot readings.
- The voted text concatenates the winners; each character of a winner gets its score divided by the total weight.
- Agreement is the fraction of segments on which every reading proposes the same piece, counting only segments where
  some reading proposes text (every pivot character, and gaps where some reading inserts).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence

import attrs


@attrs.frozen
class Reading:
    """One member's reading of a line: its text and one confidence in (0, 1] per character.

    Raises ValueError when the number of confidences differs from the text's length or a confidence is out of range.
    """

    text: str
    confidences: tuple[float, ...] = attrs.field(converter=tuple)

    def __attrs_post_init__(self) -> None:
        if len(self.confidences) != len(self.text):
            raise ValueError(
                f"reading {self.text!r} has {len(self.text)} characters but {len(self.confidences)} confidences"
            )
        for index, confidence in enumerate(self.confidences):
            if not 0 < confidence <= 1:
                raise ValueError(f"confidence {confidence!r} at index {index} of {self.text!r} is outside (0, 1]")


@attrs.frozen
class Vote:
    """The voted reading of a line.

    ``confidences`` has one entry per character of ``text``: the score of the segment winner the character belongs
    to over the total weight, in [0, 1]. ``agreement``, in [0, 1], is the fraction of segments on which all readings
    agree; 1 when there are no segments (e.g. all readings are empty).
    """

    text: str
    confidences: tuple[float, ...]
    agreement: float


def vote(readings: Sequence[Reading], weights: Sequence[float] | None = None) -> Vote:
    """Vote several readings of one line into one, as described in the module docstring.

    ``weights`` (default: all 1) holds one positive finite weight per reading. A single reading comes back unchanged
    with agreement 1. Raises ValueError when there are no readings or the weights are bad.
    """
    if not readings:
        raise ValueError("vote() needs at least one reading")
    member_weights = _checked_weights(weights, len(readings))
    if len(readings) == 1:
        return Vote(readings[0].text, readings[0].confidences, 1.0)
    pivot = _pivot_index(readings)
    pivot_text = readings[pivot].text
    pieces_by_reading = [_pieces(reading, alignment_bounds(pivot_text, reading.text)) for reading in readings]
    total_weight = math.fsum(member_weights)
    text: list[str] = []
    confidences: list[float] = []
    contested = agreed = 0
    for proposals in zip(*pieces_by_reading):
        winner, score = _winner(proposals, member_weights, proposals[pivot][0])
        text.append(winner)
        confidences.extend([score / total_weight] * len(winner))
        proposed = {piece for piece, _ in proposals}
        if proposed != {""}:
            contested += 1
            agreed += len(proposed) == 1
    return Vote("".join(text), tuple(confidences), agreed / contested if contested else 1.0)


def _checked_weights(weights: Sequence[float] | None, count: int) -> tuple[float, ...]:
    """The weights as a tuple, all 1 when None; ValueError unless one positive finite weight per reading."""
    if weights is None:
        return (1.0,) * count
    if len(weights) != count:
        raise ValueError(f"got {len(weights)} weights for {count} readings; need one weight per reading")
    for index, weight in enumerate(weights):
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"weight {weight!r} at index {index} is not a positive finite number")
    if not math.isfinite(sum(weights)):
        raise ValueError("the weights' sum overflows a float")
    return tuple(weights)


def _pivot_index(readings: Sequence[Reading]) -> int:
    """The index of the reading with the highest mean confidence, empty readings ranking lowest; ties: the earliest."""
    return max(range(len(readings)), key=lambda index: _mean_confidence(readings[index]) if readings[index].text else 0)


def _edit_distances(source: str, target: str) -> list[list[int]]:
    """The Levenshtein table: entry ``[i][j]`` is the edit distance between ``source[:i]`` and ``target[:j]``."""
    rows = [list(range(len(target) + 1))]
    for i, source_char in enumerate(source, start=1):
        above = rows[-1]
        row = [i]
        for j, target_char in enumerate(target, start=1):
            row.append(min(above[j - 1] + (source_char != target_char), above[j] + 1, row[j - 1] + 1))
        rows.append(row)
    return rows


def alignment_bounds(pivot: str, member: str) -> list[int]:
    """Where ``member`` is cut into its ``2 * len(pivot) + 1`` pieces by a minimal Levenshtein alignment to ``pivot``.

    Piece ``k`` is ``member[bounds[k]:bounds[k + 1]]``: for even ``k`` the characters inserted before pivot character
    ``k // 2`` (or after the last), for odd ``k`` the character aligned with pivot character ``k // 2``, if any. The
    backtrace runs from the ends of both strings and, among minimal steps, prefers aligning the two current characters
    (match or substitution), then leaving the pivot character unmatched, then inserting the member character.
    """
    distances = _edit_distances(pivot, member)
    bounds = [0] * (2 * len(pivot) + 2)
    bounds[-1] = len(member)
    i, j = len(pivot), len(member)
    while i > 0:
        if j > 0 and distances[i][j] == distances[i - 1][j - 1] + (pivot[i - 1] != member[j - 1]):
            bounds[2 * i - 1], bounds[2 * i] = j - 1, j
            i, j = i - 1, j - 1
        elif distances[i][j] == distances[i - 1][j] + 1:
            bounds[2 * i - 1] = bounds[2 * i] = j
            i -= 1
        else:
            j -= 1
    return bounds


def _pieces(reading: Reading, bounds: Sequence[int]) -> list[tuple[str, float]]:
    """Each of the reading's pieces with the reading's confidence in it (its mean confidence for an empty piece)."""
    empty_piece_confidence = _mean_confidence(reading)
    return [
        (
            reading.text[start:end],
            statistics.fmean(reading.confidences[start:end]) if end > start else empty_piece_confidence,
        )
        for start, end in itertools.pairwise(bounds)
    ]


def _winner(proposals: Sequence[tuple[str, float]], weights: Sequence[float], pivot_piece: str) -> tuple[str, float]:
    """The winning piece of one segment and its score; ties go to ``pivot_piece``, then to the piece sorting first.

    Scores are summed exactly (``math.fsum``), so they and the ties do not depend on the order of the readings.
    """
    contributions: dict[str, list[float]] = {}
    for (piece, confidence), weight in zip(proposals, weights):
        contributions.setdefault(piece, []).append(weight * confidence)
    scores = {piece: math.fsum(parts) for piece, parts in contributions.items()}
    winner = max(sorted(scores), key=lambda piece: (scores[piece], piece == pivot_piece))
    return winner, scores[winner]


def _mean_confidence(reading: Reading) -> float:
    """The mean of the reading's character confidences; 1 for an empty reading."""
    return statistics.fmean(reading.confidences) if reading.confidences else 1.0
