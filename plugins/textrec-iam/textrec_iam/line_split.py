"""``LineSplit``: a split of variable-width line images, served in width-bucketed batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

#: When shuffling, samples are drawn at random, then sorted by width within pools of this many batches.
POOL_BATCHES = 50


class LineSplit:
    """Line images of one height and varying widths, with their labels.

    ``images`` are uint8 arrays ``(H, w_i)``, ink bright on dark; ``labels`` is an int64 tensor
    ``(N, L)``; ``ids`` names each sample. Samples are kept sorted by width (ties by id), so
    without ``shuffle`` batches come in that order and neighbours have similar widths. With
    ``shuffle``, the order is drawn from ``generator``: a random permutation, sorted by width
    within pools of :data:`POOL_BATCHES` batches, cut into batches whose order is shuffled again.
    Each batch is float32 ``(B, H, W)`` in [0, 1], ``W`` its widest line, narrower lines padded on
    the right with 0 (background).
    """

    def __init__(self, images: Sequence[np.ndarray], labels: torch.Tensor, ids: Sequence[str]) -> None:
        if not len(images) == labels.shape[0] == len(ids):
            raise ValueError(f"{len(images)} images, {labels.shape[0]} labels and {len(ids)} ids")
        order = sorted(range(len(images)), key=lambda i: (images[i].shape[1], ids[i]))
        self.images = [images[i] for i in order]
        self.labels = labels[order].long() if order else labels.long()
        self.ids = [ids[i] for i in order]
        self.widths = torch.tensor([image.shape[1] for image in self.images], dtype=torch.long)

    def __len__(self) -> int:
        return len(self.images)

    def batches(
        self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(images, labels)`` batches covering the split once (see the class docstring)."""
        for indices in self._batch_indices(batch_size, shuffle, generator):
            yield self._collate(indices), self.labels[indices]

    def _batch_indices(self, batch_size: int, shuffle: bool, generator: torch.Generator | None) -> list[torch.Tensor]:
        n = len(self)
        if not shuffle:
            return [torch.arange(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
        order = torch.randperm(n, generator=generator)
        batches = []
        pool_size = batch_size * POOL_BATCHES
        for start in range(0, n, pool_size):
            pool = order[start : start + pool_size]
            pool = pool[torch.argsort(self.widths[pool], stable=True)]
            batches.extend(pool[i : i + batch_size] for i in range(0, len(pool), batch_size))
        return [batches[i] for i in torch.randperm(len(batches), generator=generator)]

    def _collate(self, indices: torch.Tensor) -> torch.Tensor:
        chosen = [self.images[i] for i in indices.tolist()]
        height = chosen[0].shape[0]
        batch = np.zeros((len(chosen), height, max(image.shape[1] for image in chosen)), dtype=np.uint8)
        for row, image in zip(batch, chosen):
            row[:, : image.shape[1]] = image
        return torch.from_numpy(batch).float().div_(255.0)
