"""``SyntheticCharactersDataset``: EMNIST-format characters rendered from Hershey fonts.

Needs no download: every image is drawn from the seed (sample ``i`` of a split depends only on
the seed, the split and ``i``), so two machines with the same arguments get the same data. The
rendered arrays are cached under ``$TEXTREC_DATA_DIR/synthetic`` keyed by their arguments.
The constructor checks every argument (:class:`~textrec_core.errors.ArgumentError`) and renders
nothing; ``prepare()`` renders or reads the cache.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from textrec_core import EMNIST_MAPPING, DataShapes, PreparedSplits, TensorSplit
from textrec_core.services.arguments import check_integer
from textrec_core.services.download import data_dir
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_hershey.render import balanced_labels, render_characters

CACHE_VERSION = 1
CHUNK = 2000


def split_seed(seed: int, split: str) -> int:
    """A seed for one split, independent of the others."""
    return int(np.random.SeedSequence([seed, ["train", "val", "test"].index(split)]).generate_state(1)[0])


def render_split(num_samples: int, seed: int, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels over the 62 classes and their rendered images."""
    labels = balanced_labels(num_samples, seed)
    images = np.empty((num_samples, 28, 28), dtype=np.uint8)
    with tqdm(total=num_samples, desc="rendering characters", unit="char", disable=not progress) as bar:
        for start in range(0, num_samples, CHUNK):
            stop = min(start + CHUNK, num_samples)
            images[start:stop] = render_characters(labels[start:stop], seed, start=start)
            bar.update(stop - start)
    return images, labels


class SyntheticCharactersDataset(PreparedSplits):
    """Synthetic handwriting-like characters: 28x28, the 62 EMNIST byclass classes, offline."""

    mapping = EMNIST_MAPPING

    def __init__(self, *, num_train: int = 20000, num_val: int = 2000, num_test: int = 4000, seed: int = 0) -> None:
        sizes = {"train": num_train, "val": num_val, "test": num_test}
        for split, size in sizes.items():
            check_integer(f"num_{split}", size)
        check_integer("seed", seed, minimum=0)
        self.sizes = sizes
        self.seed = seed
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((28, 28), (), self.mapping)

    def prepare(self) -> None:
        for split, size in self.sizes.items():
            images, labels = self._load_or_render(split, size)
            self.splits[split] = TensorSplit(torch.from_numpy(images), torch.from_numpy(labels))

    def _load_or_render(self, split: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        path = data_dir() / "synthetic" / f"hershey-v{CACHE_VERSION}-{split}-{size}-seed{self.seed}.npz"
        cached = load_arrays(path)
        if cached is not None and {"images", "labels"} <= cached.keys():
            return cached["images"], cached["labels"]
        images, labels = render_split(size, split_seed(self.seed, split))
        save_arrays(path, images=images, labels=labels)
        return images, labels
