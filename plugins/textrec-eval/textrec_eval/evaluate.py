"""Read a dataset's test split with each decoder and score the readings (:class:`Evaluation`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from textrec_core.errors import DataError
from textrec_core.mapping import CharacterMapping
from textrec_core.predictor import EnsembleReader, Predictor
from textrec_core.protocols import Split
from textrec_core.services.metrics import edit_distance
from textrec_eval.calibration import Reliability, character_accuracy, reliability
from textrec_eval.metrics import DecoderMetrics, LineResult, WorstLines, decoder_metrics, edits_cer
from textrec_eval.text import normalize


@dataclass(frozen=True)
class Evaluation:
    """The outcome: ``lines`` evaluated, ``metrics`` per decoder (in the order read), the
    ``worst`` lines by the first decoder's per-line CER, worst first, and per decoder the
    ``reliability`` of its scores: ``"confidence"`` always, ``"agreement"`` for an ensemble; per
    decoder each line's ``edits`` (its reading's edit distance to its truth, in split order), and
    the ``truth_lengths`` of the lines."""

    lines: int
    metrics: dict[str, DecoderMetrics]
    worst: list[LineResult]
    reliability: dict[str, dict[str, Reliability]]
    edits: dict[str, np.ndarray]
    truth_lengths: np.ndarray


#: One line as read: text, confidence and (from an ensemble) agreement.
Read = tuple[str, float, float | None]


def read_lines(reader: Predictor, arrays: list[np.ndarray]) -> list[Read]:
    """``reader``'s text, confidence and agreement (None unless it is an :class:`EnsembleReader`) per line."""
    if isinstance(reader, EnsembleReader):
        return [(line.text, line.confidence, line.agreement) for line in reader.read(arrays)]
    return [(text, confidence, None) for text, confidence in reader.predict_batch(arrays)]


def scored(lines: list[Read], truths: list[str]) -> dict[str, Reliability]:
    """The reliability of the lines' confidences and, where every line has one, agreements."""
    accuracies = [character_accuracy(text, truth) for (text, _, _), truth in zip(lines, truths)]
    exact = [text == truth for (text, _, _), truth in zip(lines, truths)]
    tables = {"confidence": reliability([confidence for _, confidence, _ in lines], accuracies, exact)}
    if all(agreement is not None for _, _, agreement in lines):
        tables["agreement"] = reliability([agreement for _, _, agreement in lines], accuracies, exact)
    return tables


def trim_padding(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W) without its trailing all-zero columns (a batch's right padding; a line's own
    exactly-black right margin goes too, which a line predictor re-pads anyway); at least 1 column."""
    inked = np.flatnonzero(image.any(axis=0))
    return image[:, : max(1, inked[-1] + 1 if inked.size else 1)]


def label_texts(labels: torch.Tensor, mapping: CharacterMapping) -> list[str]:
    """The texts of a batch of labels: ``(B, L)`` rows, or ``(B,)`` single characters, spelled with
    ``mapping`` (``<pad>`` and every other special token read as nothing)."""
    rows = labels.tolist()
    return [mapping.spell(row if isinstance(row, list) else [row]) for row in rows]


def split_ids(split: Split) -> Sequence[str] | None:
    """The split's line ids (its optional ``ids`` attribute, one per sample in batch order), or None."""
    ids = getattr(split, "ids", None)
    return ids if ids is not None and len(ids) == len(split) else None


def evaluate(readers: dict[str, Predictor], split: Split, mapping: CharacterMapping, *, batch_size: int,
             worst: int) -> Evaluation:
    """Read every line of ``split`` with every reader, in batches of ``batch_size``.

    Truths are the labels spelled with the dataset's ``mapping``; truths and readings are compared
    normalised. Speed is the wall time of ``predict_batch`` alone, per reader, after one untimed
    warm-up read of the first batch (torch's first calls pay one-off set-up costs); the readers take
    turns to read each batch first, so the cost of a batch shape met for the first time (torch's CPU
    kernels are built per shape) falls on each of them alike. Raises
    :class:`DataError` for an empty split; data errors from the split propagate.
    """
    names = list(readers)
    ids = split_ids(split)
    truths: list[str] = []
    readings: dict[str, list[Read]] = {name: [] for name in names}
    edits: dict[str, list[int]] = {name: [] for name in names}
    seconds = dict.fromkeys(names, 0.0)
    kept = WorstLines(worst, names[0])
    for number, (images, labels) in enumerate(split.batches(batch_size)):
        arrays = [trim_padding(image) for image in images.numpy()]
        batch_truths = [normalize(text) for text in label_texts(labels, mapping)]
        batch_readings = {}
        for name in names[number % len(names):] + names[: number % len(names)]:
            if not truths:
                read_lines(readers[name], arrays)
            start = time.perf_counter()
            read = read_lines(readers[name], arrays)
            seconds[name] += time.perf_counter() - start
            batch_readings[name] = [(normalize(text), confidence, agreement) for text, confidence, agreement in read]
        for name in names:
            readings[name] += batch_readings[name]
        for offset, (array, truth) in enumerate(zip(arrays, batch_truths)):
            index = len(truths) + offset
            line = {name: batch_readings[name][offset] for name in names}
            for name, (text, _, _) in line.items():
                edits[name].append(edit_distance(text, truth))
            kept.offer(LineResult(
                index, str(ids[index]) if ids is not None else None, truth,
                {name: text for name, (text, _, _) in line.items()},
                {name: edits_cer(edits[name][-1], len(truth)) for name in names},
                (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8),
                {name: confidence for name, (_, confidence, _) in line.items()},
                {name: agreement for name, (_, _, agreement) in line.items()},
            ))
        truths += batch_truths
    if not truths:
        raise DataError("the split holds no lines: nothing to evaluate")
    return Evaluation(len(truths),
                      {name: decoder_metrics([text for text, _, _ in readings[name]], truths, seconds[name])
                       for name in names},
                      kept.lines(), {name: scored(readings[name], truths) for name in names},
                      {name: np.array(edits[name]) for name in names}, np.array([len(truth) for truth in truths]))
