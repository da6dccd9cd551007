"""Calibrating an ensemble's confidence: a monotone map from raw confidence to expected accuracy.

An ensemble's raw confidence (the mean confidence of its voted characters, or an averaged CTC
reading's probability) orders lines well but is not on the scale of being right. :func:`fit` learns
the non-decreasing function from raw confidence to a line's character accuracy (``1 - CER``, floored
at 0) by isotonic regression (pool adjacent violators) over the lines of a held-out split, the
dataset's validation split, never its test split. The map is stored in the bundle as knots
``[[raw, calibrated], ...]`` (raw strictly increasing, calibrated non-decreasing, both in [0, 1])
and applied by linear interpolation between knots, constant beyond the first and last.

Voting members are calibrated too, character by character (:func:`fit_characters`): each member's
map takes its confidence in a character to the probability that the character is right (aligned to
the same character of the truth by a minimal Levenshtein alignment, :func:`character_outcomes`), so
that every member's vote is on one scale, whatever its decoder or model makes of confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from tqdm import tqdm

from textrec_core.errors import ArgumentError, DataError
from textrec_core.mapping import CharacterMapping
from textrec_core.predictor import EnsembleReader
from textrec_core.protocols import Split
from textrec_ensembler.voting import Reading, alignment_bounds
from textrec_eval.calibration import character_accuracy
from textrec_eval.evaluate import label_texts, trim_padding
from textrec_eval.text import normalize

Knots = list[list[float]]


def isotonic(scores: Sequence[float], targets: Sequence[float]) -> Knots:
    """The knots of the least-squares non-decreasing fit of ``targets`` as a function of ``scores``:
    one knot per pooled block, at the block's mean score and mean target (points of equal score
    always in one block). ``ValueError`` for no points or unequal lengths."""
    if len(scores) != len(targets) or not len(scores):
        raise ValueError(f"expected one target per score, got {len(scores)} scores and {len(targets)} targets")
    distinct, group = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True)
    counts = np.bincount(group)
    target_sums = np.bincount(group, weights=np.asarray(targets, dtype=np.float64))
    blocks: list[list[float]] = []  # [sum of scores, sum of targets, count]
    for score, target_sum, count in zip(distinct.tolist(), target_sums.tolist(), counts.tolist()):
        blocks.append([score * count, target_sum, count])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last)]
    return [[sx / n, sy / n] for sx, sy, n in blocks]


def check_knots(knots: object) -> None:
    """Raise :class:`ArgumentError` (``calibration``) unless ``knots`` is a list of ``[raw, calibrated]``
    pairs in [0, 1], raw strictly increasing and calibrated non-decreasing."""
    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0

    if not isinstance(knots, list) or not knots or not all(
            isinstance(knot, list) and len(knot) == 2 and all(map(number, knot)) for knot in knots):
        raise ArgumentError("calibration", f"must be a non-empty list of [raw, calibrated] pairs in [0, 1], "
                                           f"got {knots!r}")
    if any(a[0] >= b[0] or a[1] > b[1] for a, b in zip(knots, knots[1:])):
        raise ArgumentError("calibration", "raw confidences must increase and calibrated ones must not decrease")


def calibrated(knots: Knots, confidence: float) -> float:
    """``confidence`` mapped through ``knots`` (linear between knots, constant beyond them)."""
    return float(np.interp(confidence, [k[0] for k in knots], [k[1] for k in knots]))


def fit(reader: EnsembleReader, split: Split, mapping: CharacterMapping, *, batch_size: int = 32,
        progress: bool = True) -> Knots:
    """The calibration knots of ``reader``'s raw confidences on every line of ``split`` (labels spelled
    with ``mapping``; readings and truths compared normalised). :class:`DataError` for an empty split."""
    scores: list[float] = []
    targets: list[float] = []
    batches = split.batches(batch_size)
    for images, labels in tqdm(batches, total=-(-len(split) // batch_size), desc="calibrating", unit="batch",
                               disable=not progress):
        lines = reader.read([trim_padding(image) for image in images.numpy()])
        for line, truth in zip(lines, label_texts(labels, mapping)):
            scores.append(line.confidence)
            targets.append(character_accuracy(normalize(line.text), normalize(truth)))
    if not scores:
        raise DataError("the calibration split holds no lines")
    knots = isotonic(scores, targets)
    return [[min(1.0, max(0.0, x)), min(1.0, max(0.0, y))] for x, y in knots]


def character_outcomes(reading: str, truth: str) -> list[float]:
    """Per character of ``reading``: 1.0 where a minimal Levenshtein alignment to ``truth`` puts it in
    the place of the same truth character, 0.0 where it replaces another or is inserted."""
    bounds = alignment_bounds(truth, reading)
    outcomes = [0.0] * len(reading)
    for position, character in enumerate(truth):
        start, end = bounds[2 * position + 1], bounds[2 * position + 2]
        if end - start == 1 and reading[start] == character:
            outcomes[start] = 1.0
    return outcomes


#: Reads images with every member: per member, per image, its :class:`Reading` with raw confidences.
MemberReads = Callable[[list[np.ndarray]], list[list[Reading]]]


def fit_characters(read_members: MemberReads, split: Split, mapping: CharacterMapping, *, batch_size: int = 32,
                   progress: bool = True) -> list[Knots]:
    """Per member, the knots of the isotonic map from its confidence in a character to the character's
    :func:`character_outcomes` against the truth, over every line of ``split`` (labels spelled with
    ``mapping``). :class:`DataError` for a split whose lines hold no character read by some member."""
    scores: list[list[float]] = []
    targets: list[list[float]] = []
    for images, labels in tqdm(split.batches(batch_size), total=-(-len(split) // batch_size),
                               desc="calibrating members", unit="batch", disable=not progress):
        per_member = read_members([trim_padding(image) for image in images.numpy()])
        scores = scores or [[] for _ in per_member]
        targets = targets or [[] for _ in per_member]
        for index, readings in enumerate(per_member):
            for reading, truth in zip(readings, label_texts(labels, mapping)):
                scores[index] += reading.confidences
                targets[index] += character_outcomes(reading.text, truth)
    if not scores or not all(scores):
        raise DataError("the calibration split holds no lines, or a member read no character on it")
    return [isotonic(member_scores, member_targets) for member_scores, member_targets in zip(scores, targets)]
