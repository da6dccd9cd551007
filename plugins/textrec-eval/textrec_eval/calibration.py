"""How a reader's per-line scores relate to being right: reliability bins and the calibration error.

A line's score is a number in [0, 1] that the reader claims for it: its confidence, or (for an
ensemble) its members' agreement. A line's accuracy is its character accuracy, ``1 - CER`` floored
at 0 (:func:`character_accuracy`). A reader is calibrated when, over the lines it scores about
``s``, the mean accuracy is about ``s``. :func:`reliability` bins the lines by score into
``bins`` equal intervals of [0, 1] and reports, per non-empty bin, the mean score, the mean
accuracy and the fraction of lines read exactly; the expected calibration error (ECE) is the
line-weighted mean of ``|mean accuracy - mean score|`` over the bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textrec_eval.metrics import line_cer

#: Bins of a reliability table: equal intervals of [0, 1].
BINS = 10


def character_accuracy(reading: str, truth: str) -> float:
    """``1 - CER`` of one line, floored at 0 (a reading with more edits than the truth has characters is 0)."""
    return max(0.0, 1.0 - line_cer(reading, truth))


@dataclass(frozen=True)
class ReliabilityBin:
    """The lines whose score lies in ``[low, high)`` (the last bin includes 1): how many, their mean
    ``score``, mean character ``accuracy`` and the fraction read ``exact``ly."""

    low: float
    high: float
    lines: int
    score: float
    accuracy: float
    exact: float


@dataclass(frozen=True)
class Reliability:
    """Scores against accuracy over a split: the non-empty ``bins`` in order and the ``ece``."""

    bins: list[ReliabilityBin]
    ece: float


def reliability(scores: Sequence[float], accuracies: Sequence[float], exact: Sequence[bool],
                bins: int = BINS) -> Reliability:
    """The reliability table of lines with these ``scores``, character ``accuracies`` and ``exact``
    flags (one each per line, scores in [0, 1]). ``ValueError`` for no lines or unequal lengths."""
    if not len(scores) == len(accuracies) == len(exact) or not len(scores):
        raise ValueError(f"expected one score, accuracy and exact flag per line, got {len(scores)}, "
                         f"{len(accuracies)} and {len(exact)}")
    score = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    accuracy = np.asarray(accuracies, dtype=np.float64)
    right = np.asarray(exact, dtype=np.float64)
    which = np.minimum((score * bins).astype(int), bins - 1)
    table, error = [], 0.0
    for number in range(bins):
        members = which == number
        count = int(members.sum())
        if not count:
            continue
        mean_score, mean_accuracy = float(score[members].mean()), float(accuracy[members].mean())
        table.append(ReliabilityBin(number / bins, (number + 1) / bins, count, mean_score, mean_accuracy,
                                    float(right[members].mean())))
        error += count * abs(mean_accuracy - mean_score)
    return Reliability(table, error / len(score))
