"""``EmnistLinesDataset``: images of handwritten lines spelled with EMNIST-format characters.

Each line spells a span of ``text_source`` (at most ``max_length`` characters, cut at word
boundaries) with character images drawn at random from ``char_source``, neighbours overlapping
by a per-line fraction drawn from [``min_overlap``, ``max_overlap``]. Lines of the train split
use only the character dataset's train images, validation lines its validation images and test
lines its test images, so no test glyph is seen in training.

Images are 28 pixels high and ``max_length * 28`` wide (fixed width): the line starts at the
left edge and the rest is black padding. Labels are the text's indices in the core's
``LINE_MAPPING``, padded with ``<pad>`` to ``max_length``.

Validation and test lines are generated once and cached under ``$TEXTREC_DATA_DIR/emnist_lines``,
keyed by every argument and a digest of the glyphs used. Training lines are generated fresh for
every epoch as batches are drawn (``fresh_train_lines``, the default: the model never sees the
same line twice); with ``fresh_train_lines=False`` they are generated once and cached too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import numpy as np
import torch

from textrec_core import DataShapes, TensorSplit
from textrec_core.download import data_dir
from textrec_core.errors import ConfigError
from textrec_core.fileio import load_arrays, save_arrays
from textrec_core.mapping import EMNIST_MAPPING, LINE_MAPPING
from textrec_core.splits import PreparedSplits
from textrec_emnist_lines.generator import GlyphPool, render_lines
from textrec_emnist_lines.text import load_text, normalize, sample_texts

CACHE_VERSION = 2
SPLITS = ("train", "val", "test")


class LineSource:
    """Draws lines (texts, then images) from one glyph pool and one corpus."""

    def __init__(self, pool: GlyphPool, corpus: str, max_length: int, min_overlap: float, max_overlap: float) -> None:
        self.pool, self.corpus = pool, corpus
        self.options = {"max_length": max_length, "min_overlap": min_overlap, "max_overlap": max_overlap}

    def draw(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``count`` line images (uint8) and their labels (int64)."""
        texts = sample_texts(self.corpus, rng, count, self.options["max_length"])
        batch = render_lines(texts, self.pool, rng, **self.options)
        return batch.images, batch.labels


class FreshLinesSplit:
    """A training split whose lines are generated anew for every pass (every epoch).

    The pass's lines come from a seed drawn from the ``generator`` given to :meth:`batches`,
    so a seeded run is repeatable while every epoch sees different lines.
    """

    def __init__(self, source: LineSource, size: int) -> None:
        self.source, self.size = source, size

    def __len__(self) -> int:
        return self.size

    def batches(
        self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator)) if generator is not None else 0
        rng = np.random.default_rng(seed)
        for start in range(0, self.size, batch_size):
            images, labels = self.source.draw(min(batch_size, self.size - start), rng)
            yield torch.from_numpy(images).float().div_(255.0), torch.from_numpy(labels)


class EmnistLinesDataset(PreparedSplits):
    """Synthetic handwritten lines from a character dataset and a text (see module docstring)."""

    mapping = LINE_MAPPING

    def __init__(self, *, max_length: int = 34, min_overlap: float = 0.0, max_overlap: float = 0.33,
                 num_train: int = 10000, num_val: int = 1000, num_test: int = 1000, seed: int = 0,
                 char_source: str = "emnist", text_source: str = "brown", fresh_train_lines: bool = True) -> None:
        if max_length < 1:
            raise ConfigError("dataset_args.max_length", f"must be at least 1, got {max_length}")
        if not 0 <= min_overlap <= max_overlap < 1:
            raise ConfigError("dataset_args.max_overlap",
                              f"need 0 <= min_overlap <= max_overlap < 1, got {min_overlap} and {max_overlap}")
        if min(num_train, num_val, num_test) < 1:
            raise ConfigError("dataset_args.num_train", "num_train, num_val and num_test must each be at least 1")
        self.args = {"max_length": max_length, "min_overlap": min_overlap, "max_overlap": max_overlap,
                     "seed": seed, "char_source": char_source, "text_source": text_source}
        self.sizes = {"train": num_train, "val": num_val, "test": num_test}
        self.fresh_train_lines = fresh_train_lines
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        length = self.args["max_length"]
        return DataShapes((28, 28 * length), (length,), len(self.mapping))

    def prepare(self) -> None:
        from textrec_core.plugins import components

        chars = components().get("dataset", self.args["char_source"])()
        if chars.mapping != EMNIST_MAPPING:
            raise ConfigError("dataset_args.char_source",
                              f"{self.args['char_source']!r} does not use the 62-class EMNIST alphabet")
        chars.prepare()
        corpus = normalize(load_text(self.args["text_source"]))
        for index, name in enumerate(SPLITS):
            glyphs = getattr(chars, name)
            source = LineSource(GlyphPool(glyphs.images.numpy(), glyphs.labels.numpy()), corpus,
                                self.args["max_length"], self.args["min_overlap"], self.args["max_overlap"])
            if name == "train" and self.fresh_train_lines:
                self.splits[name] = FreshLinesSplit(source, self.sizes[name])
            else:
                self.splits[name] = self._cached(name, index, source, glyphs.images.numpy(), corpus)

    def _cached(self, name: str, index: int, source: LineSource, glyphs: np.ndarray, corpus: str) -> TensorSplit:
        settings = {**self.args, "split": name, "size": self.sizes[name]}
        key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        key.update(hashlib.sha256(glyphs.tobytes()).digest())
        key.update(hashlib.sha256(corpus.encode()).digest())
        path = data_dir() / "emnist_lines" / f"{name}-v{CACHE_VERSION}-{key.hexdigest()[:16]}.npz"
        cached = load_arrays(path)
        if cached is not None and {"images", "labels"} <= cached.keys():
            return TensorSplit(torch.from_numpy(cached["images"]), torch.from_numpy(cached["labels"]))
        rng = np.random.default_rng([self.args["seed"], index])
        images, labels = source.draw(self.sizes[name], rng)
        save_arrays(path, images=images, labels=labels)
        return TensorSplit(torch.from_numpy(images), torch.from_numpy(labels))
