"""Data splits: the objects a :class:`~textrec_core.protocols.Dataset` exposes as train/val/test."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from textrec_core.protocols import Split


class TensorSplit:
    """An in-memory split of images and labels, served in batches by tensor indexing.

    ``images`` is a uint8 tensor of shape ``(N, H, W)`` (ink bright on dark, 0-255, upright);
    ``labels`` is an int64 tensor of shape ``(N,)`` or ``(N, L)``. Batches are float32 images
    scaled to [0, 1] and the matching labels. Slicing whole batches (rather than collating
    samples one by one) keeps the per-batch overhead negligible next to the network's step.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        if images.dtype != torch.uint8 or images.dim() != 3:
            raise ValueError(f"images must be a uint8 tensor (N, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels.shape[0] != images.shape[0]:
            raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels")
        self.images = images
        self.labels = labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    def batches(
        self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(images, labels)`` batches covering the split once (the last may be smaller)."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                idx = slice(start, start + batch_size)
            else:
                idx = order[start : start + batch_size]
            yield self.images[idx].float().div_(255.0), self.labels[idx]

    def subset(self, indices: torch.Tensor) -> TensorSplit:
        """A new split holding the given rows."""
        return TensorSplit(self.images[indices], self.labels[indices])


class PreparedSplits:
    """Base for datasets: ``prepare()`` fills ``self.splits`` with ``train``, ``val`` and ``test``;
    reading a split before that raises an error saying to call ``prepare()``."""

    splits: dict[str, Split]

    def _split(self, name: str) -> Split:
        splits = getattr(self, "splits", {})
        if name not in splits:
            raise RuntimeError(f"call prepare() before reading the {name} split of {type(self).__name__}")
        return splits[name]

    @property
    def train(self) -> Split:
        return self._split("train")

    @property
    def val(self) -> Split:
        return self._split("val")

    @property
    def test(self) -> Split:
        return self._split("test")
