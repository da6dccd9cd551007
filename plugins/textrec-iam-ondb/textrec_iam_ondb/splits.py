"""The splits of rendered lines: a training split drawn afresh every pass, fixed validation and test splits.

Batches hold lines of similar width: the split's order (shuffled or not) is cut into chunks of
:data:`CHUNK_BATCHES` batches, each chunk sorted by the lines' natural widths and cut into
batches, and the batches shuffled when the lines are. Each batch is padded on the right with
background (0) to its widest line, so images are ``(B, height, batch width)`` float32 in [0, 1],
bright ink on dark; labels ``(B, max_length)`` int64.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from textrec_iam_ondb.rendering import FIXED_STYLE, natural_width, random_style, render_strokes
from textrec_iam_ondb.strokes import StrokeLines

#: Batches sorted by width together; larger keeps padding smaller, smaller keeps batches more mixed.
CHUNK_BATCHES = 50


def bucketed_batches(widths: np.ndarray, batch_size: int, *, shuffle: bool,
                     generator: torch.Generator | None) -> list[np.ndarray]:
    """Indices of each batch, covering every line once, lines of a batch of similar width."""
    count = len(widths)
    order = torch.randperm(count, generator=generator).numpy() if shuffle else np.arange(count)
    batches = []
    for start in range(0, count, batch_size * CHUNK_BATCHES):
        chunk = order[start : start + batch_size * CHUNK_BATCHES]
        chunk = chunk[np.argsort(widths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    if shuffle:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return batches


def pad_batch(images: list[np.ndarray]) -> torch.Tensor:
    """Float images ``(B, H, widest)`` in [0, 1], each line padded on the right with 0."""
    batch = np.zeros((len(images), images[0].shape[0], max(image.shape[1] for image in images)), dtype=np.uint8)
    for row, image in zip(batch, images):
        row[:, : image.shape[1]] = image
    return torch.from_numpy(batch).float().div_(255.0)


class StrokeSplit:
    """Lines of one split as strokes and labels, at the dataset's ``height`` and ``max_width``."""

    def __init__(self, lines: StrokeLines, labels: np.ndarray, height: int, max_width: int) -> None:
        self.lines, self.labels, self.height, self.max_width = lines, labels, height, max_width
        self.widths = np.array([natural_width(_extent(lines.line_points(i)), height, max_width)
                                for i in range(len(lines))])

    def __len__(self) -> int:
        return len(self.lines)


class FreshSplit(StrokeSplit):
    """Training lines drawn anew, in a new random style each (:func:`random_style`), every pass.

    A pass's styles come from a seed drawn from the ``generator`` given to :meth:`batches`, so a
    seeded run repeats while every epoch sees different images.
    """

    def batches(self, batch_size: int, *, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator)) if generator is not None else 0
        rng = np.random.default_rng(seed)
        for indices in bucketed_batches(self.widths, batch_size, shuffle=shuffle, generator=generator):
            images = [render_strokes(self.lines.strokes(i), self.height, self.max_width, random_style(rng), rng)
                      for i in indices]
            yield pad_batch(images), torch.from_numpy(self.labels[indices])


class FixedSplit(StrokeSplit):
    """Lines drawn once, as recorded (:data:`FIXED_STYLE`), and kept in memory: the same images every pass."""

    def __init__(self, lines: StrokeLines, labels: np.ndarray, height: int, max_width: int) -> None:
        super().__init__(lines, labels, height, max_width)
        self.images = [render_strokes(lines.strokes(i), height, max_width, FIXED_STYLE) for i in range(len(lines))]

    def batches(self, batch_size: int, *, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for indices in bucketed_batches(self.widths, batch_size, shuffle=shuffle, generator=generator):
            yield pad_batch([self.images[i] for i in indices]), torch.from_numpy(self.labels[indices])


def _extent(points: np.ndarray) -> tuple[float, float]:
    width, height = points.max(axis=0) - points.min(axis=0)
    return float(width), float(height)
