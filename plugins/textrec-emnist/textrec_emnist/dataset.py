"""``EmnistDataset``: the official EMNIST IDX files, verified, parsed upright and cached.

The validation split is a seeded random ``val_fraction`` of the official train split;
``subsample_fraction`` then keeps a seeded random fraction of the remaining train samples.
The parsed arrays are cached as ``$TEXTREC_DATA_DIR/emnist/processed/<split>-v<CACHE_VERSION>.npz``,
tagged with the digests of the files they came from; a stale or damaged cache is rebuilt from
those files.

The constructor checks every argument (:class:`~textrec_core.errors.ArgumentError`) and reads
nothing; ``prepare()`` fetches, verifies and parses the files.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from textrec_core import CharacterMapping, DataShapes, PreparedSplits, TensorSplit
from textrec_core.services.arguments import check_integer, check_range
from textrec_core.services.download import data_dir, sha256_file
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_emnist.files import PARTS, ensure_members, split_characters
from textrec_emnist.idx import emnist_upright, read_idx

CACHE_VERSION = 1


class EmnistDataset(PreparedSplits):
    """EMNIST handwritten characters (default split ``byclass``: 62 classes, 0-9 A-Z a-z)."""

    def __init__(self, *, split: str = "byclass", subsample_fraction: float | None = None,
                 val_fraction: float = 0.1, seed: int = 0) -> None:
        self.mapping = CharacterMapping(split_characters(split))  # checks split
        if subsample_fraction is not None:
            check_range("subsample_fraction", subsample_fraction, 0, 1, closed="(]")
        check_range("val_fraction", val_fraction, 0, 1, closed="()")
        check_integer("seed", seed, minimum=0)
        self.split = split
        self.subsample_fraction = subsample_fraction
        self.val_fraction = val_fraction
        self.seed = seed
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((28, 28), (), self.mapping)

    def prepare(self) -> None:
        arrays = self._load_arrays()
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(arrays["train-labels"]))
        num_val = int(round(len(order) * self.val_fraction))
        val, train = order[:num_val], order[num_val:]
        if self.subsample_fraction is not None:
            train = rng.permutation(train)[: max(1, int(len(train) * self.subsample_fraction))]

        def split(images: np.ndarray, labels: np.ndarray) -> TensorSplit:
            return TensorSplit(torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)))

        self.splits = {
            "train": split(arrays["train-images"][train], arrays["train-labels"][train]),
            "val": split(arrays["train-images"][val], arrays["train-labels"][val]),
            "test": split(arrays["test-images"], arrays["test-labels"]),
        }

    def _load_arrays(self) -> dict[str, np.ndarray]:
        files = ensure_members(self.split)
        digest = hashlib.sha256("".join(sha256_file(files[p]) for p in PARTS).encode()).hexdigest()
        cache = data_dir() / "emnist" / "processed" / f"{self.split}-v{CACHE_VERSION}.npz"
        cached = load_arrays(cache)
        if cached is not None and str(cached.get("source")) == digest and set(PARTS) <= cached.keys():
            return {part: cached[part] for part in PARTS}
        arrays = {part: read_idx(files[part], ndim=3 if part.endswith("images") else 1) for part in PARTS}
        for part in ("train-images", "test-images"):
            arrays[part] = np.ascontiguousarray(emnist_upright(arrays[part]))
        save_arrays(cache, source=np.array(digest), **arrays)
        return arrays
