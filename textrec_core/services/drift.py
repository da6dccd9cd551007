"""Drift signals, reference histograms and the population stability index (PSI).

A saved model records how its training data looked (``reference_statistics`` in ``bundle.json``,
written by ``textrec-run --save``); a service reading live inputs compares them with it. Both
sides compute the same signals from the same thing: a line *as the network reads it*, a float
``(H, W)`` image in [0, 1], bright ink on dark, after the predictor's preprocessing (a dataset's
images are in that form already; a predictor's ``preprocess`` puts a served image in it):

- ``intensity``: the mean pixel value of the line's content, the columns up to the last one
  holding a non-zero pixel (right padding excluded, the rule line models use to find where a
  line ends); 0 for an image without ink;
- ``aspect_ratio``: that content's width over the image height (the height is the model's input
  height, so this is the line's length as the network sees it);
- ``confidence``: the model's confidence in its reading, in [0, 1].

The reference for ``intensity`` and ``aspect_ratio`` is a sample of the training split, for
``confidence`` the model's confidence on a sample of the validation split; each sample holds at
most :data:`SAMPLE_LIMIT` lines, drawn in a fixed random order.

A reference :class:`Histogram` has :data:`BINS` bins at most, cut at the sample's deciles (each
holds about a tenth of it; the k-th decile is the smallest sample value with at least k tenths of
the sample at or below it): the interior ``edges`` e1 < e2 < ... are sample values, the bins are
``(-inf, e1)``, ``[e1, e2)``, ..., ``[ek, +inf)``, so every bin holds at least one reference value
and any live value falls in one; equal deciles (ties) merge bins. ``fractions`` are the share of
the sample in each bin.

The PSI of live values against a reference is ``sum((a - e) * ln(a / e))`` over the bins, ``e``
the reference's fraction and ``a`` the live one, each raised to at least :data:`FLOOR` (so an
empty bin counts, finitely). 0 means the same distribution; the usual reading is below 0.1 no
shift, 0.1 to 0.2 a moderate one, above 0.2 a significant one. Sampling alone gives about
``(bins - 1) * (1/n + 1/m)`` for ``n`` live and ``m`` reference values (0.02 for 500 against 2000).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import numpy as np
import torch

from textrec_core.protocols import Model, Split

#: The signals, in a fixed order.
SIGNALS = ("intensity", "aspect_ratio", "confidence")
#: The signals computed from the image alone (``confidence`` needs the model's reading).
IMAGE_SIGNALS = ("intensity", "aspect_ratio")
#: The split each signal's reference comes from.
REFERENCE_SPLITS = {"intensity": "train", "aspect_ratio": "train", "confidence": "val"}
#: The most bins a reference histogram has (cut at the deciles).
BINS = 10
#: The smallest fraction a bin counts with in the PSI.
FLOOR = 1e-4
#: The most lines a reference is computed from.
SAMPLE_LIMIT = 2000
#: The seed of the order the reference lines are drawn in.
SAMPLE_SEED = 0


@attrs.frozen
class Histogram:
    """A signal's reference distribution: ``count`` values of the ``split``, in the bins that the
    interior ``edges`` cut (see the module docstring), ``fractions`` (one more than the edges,
    summing to 1) the share in each."""

    split: str
    count: int
    edges: tuple[float, ...]
    fractions: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {"split": self.split, "count": self.count, "edges": list(self.edges), "fractions": list(self.fractions)}

    @classmethod
    def from_json(cls, value: Any) -> Histogram:
        """The histogram ``to_json`` wrote; ``ValueError`` saying what is wrong with anything else."""
        if not isinstance(value, Mapping) or set(value) != {"split", "count", "edges", "fractions"}:
            raise ValueError("expected an object with split, count, edges and fractions")
        edges, fractions, count = value["edges"], value["fractions"], value["count"]
        if not isinstance(value["split"], str) or isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("split must be a string and count a positive integer")
        if not (isinstance(edges, list) and isinstance(fractions, list) and len(fractions) == len(edges) + 1):
            raise ValueError("expected a list of edges and a list of fractions one longer")
        if not all(_is_number(x) for x in edges + fractions) or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("edges must be increasing finite numbers and fractions finite numbers")
        if min(fractions) < 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
            raise ValueError("fractions must be non-negative and sum to 1")
        return cls(value["split"], count, tuple(map(float, edges)), tuple(map(float, fractions)))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def image_signals(images: np.ndarray) -> dict[str, np.ndarray]:
    """``intensity`` and ``aspect_ratio`` (module docstring) of each line of a float batch ``(B, H, W)``."""
    images = np.asarray(images, dtype=np.float64)
    height, width = images.shape[1:]
    ink_columns = (images != 0).any(axis=1)
    content = np.where(ink_columns.any(axis=1), width - np.argmax(ink_columns[:, ::-1], axis=1), 0)
    inside = np.arange(width)[None, :] < content[:, None]
    sums = (images.sum(axis=1) * inside).sum(axis=1)
    intensity = np.divide(sums, content * height, out=np.zeros(len(images)), where=content > 0)
    return {"intensity": intensity, "aspect_ratio": content / height}


def reference_histogram(values: np.ndarray, split: str) -> Histogram:
    """The reference histogram of ``values`` (at least one), taken from ``split``: bins cut at their deciles."""
    values = np.asarray(values, dtype=np.float64)
    ordered, n = np.sort(values), len(values)
    deciles = ordered[[(k * n + BINS - 1) // BINS - 1 for k in range(1, BINS)]]  # at least k/BINS of them at or below
    edges = np.unique(deciles)
    edges = edges[edges > values.min()]
    return Histogram(split, len(values), tuple(map(float, edges)), tuple(map(float, bin_fractions(edges, values))))


def bin_fractions(edges: np.ndarray | tuple[float, ...], values: np.ndarray) -> np.ndarray:
    """The share of ``values`` in each bin that the interior ``edges`` cut (module docstring)."""
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="right"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def psi(reference: Histogram, values: np.ndarray) -> float:
    """The population stability index of ``values`` (at least one) against ``reference`` (module docstring)."""
    expected = np.maximum(np.asarray(reference.fractions), FLOOR)
    actual = np.maximum(bin_fractions(reference.edges, np.asarray(values, dtype=np.float64)), FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def reference_statistics(train: Split, val: Split, model: Model, limit: int = SAMPLE_LIMIT,
                         batch_size: int = 256) -> dict[str, Histogram]:
    """Each signal's reference histogram: ``intensity`` and ``aspect_ratio`` of at most ``limit``
    lines of ``train``, ``confidence`` of ``model`` on at most ``limit`` lines of ``val``; a signal
    whose split is empty is left out."""
    image_values: dict[str, list[np.ndarray]] = {name: [] for name in IMAGE_SIGNALS}
    for images in _sample(train, limit, batch_size):
        for name, values in image_signals(images.numpy()).items():
            image_values[name].append(values)
    confidences = [np.array([conf for _, conf in model.predict(images)]) for images in _sample(val, limit, batch_size)]
    collected = {**image_values, "confidence": confidences}
    return {name: reference_histogram(np.concatenate(collected[name]), REFERENCE_SPLITS[name])
            for name in SIGNALS if collected[name]}


def _sample(split: Split, limit: int, batch_size: int) -> Iterator[torch.Tensor]:
    """At most ``limit`` images of ``split``, in batches, in the fixed random order of :data:`SAMPLE_SEED`."""
    taken = 0
    generator = torch.Generator().manual_seed(SAMPLE_SEED)
    for images, _ in split.batches(batch_size, shuffle=True, generator=generator):
        if taken >= limit:
            return
        images = images[: limit - taken].cpu()
        taken += len(images)
        if len(images):
            yield images


def statistics_to_json(statistics: Mapping[str, Histogram]) -> dict[str, Any]:
    """``reference_statistics`` as ``bundle.json`` stores them."""
    return {name: histogram.to_json() for name, histogram in statistics.items()}


def statistics_from_json(value: Any) -> dict[str, Histogram]:
    """The histograms of the known :data:`SIGNALS` that :func:`statistics_to_json` wrote (others, from
    a later textrec, are skipped); ``ValueError`` naming the signal that is malformed."""
    if not isinstance(value, Mapping):
        raise ValueError("expected an object of signal -> histogram")
    statistics = {}
    for name, histogram in value.items():
        if name not in SIGNALS:
            continue
        try:
            statistics[name] = Histogram.from_json(histogram)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return statistics
