"""``EmnistLinesDataset``: images of handwritten lines spelled with EMNIST-format characters.

Each line spells a span of ``text_source`` (``"brown"``, ``"builtin"`` or the path of a UTF-8
text file; at most ``max_length`` characters, cut at word boundaries) with character images
drawn at random from ``char_source`` (a name in :data:`CHARACTER_SOURCES`: textrec-emnist's
``EmnistDataset`` or textrec-hershey's ``SyntheticCharactersDataset``, with their default
arguments), neighbours overlapping by a per-line fraction drawn from [``min_overlap``,
``max_overlap``]. Lines of the train split use only the character dataset's train images,
validation lines its validation images and test lines its test images, so no test glyph is seen
in training.

Images are 28 pixels high and ``max_length * 28`` wide (fixed width): the line starts at the
left edge and the rest is black padding. Labels are the text's indices in the core's
``LINE_MAPPING``, padded with ``<pad>`` to ``max_length``.

Validation and test lines are generated once and cached under ``$TEXTREC_DATA_DIR/emnist_lines``,
keyed by every argument and a digest of the glyphs used. Training lines are generated fresh for
every epoch as batches are drawn (``fresh_train_lines``, the default: the model never sees the
same line twice); with ``fresh_train_lines=False`` they are generated once and cached too.

The constructor checks every argument (:class:`~textrec_core.errors.ArgumentError`) and reads no
data; ``prepare()`` loads the text, then prepares the character dataset and the lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from textrec_core import DataShapes, PreparedSplits, TensorSplit
from textrec_core.errors import ArgumentError
from textrec_core.mapping import LINE_MAPPING
from textrec_core.services.arguments import check_integer, check_range
from textrec_core.services.download import data_dir
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_emnist import EmnistDataset
from textrec_emnist_lines.generator import GlyphPool, render_lines
from textrec_emnist_lines.text import NAMED_SOURCES, load_text, normalize, sample_texts
from textrec_hershey import SyntheticCharactersDataset

CACHE_VERSION = 2
SPLITS = ("train", "val", "test")
#: The character datasets ``char_source`` names (by registered name or alias); each uses the 62
#: EMNIST classes, 28x28 images, and is built with its default arguments.
CHARACTER_SOURCES: dict[str, type[PreparedSplits]] = {
    "EmnistDataset": EmnistDataset,
    "emnist": EmnistDataset,
    "SyntheticCharactersDataset": SyntheticCharactersDataset,
    "synthetic": SyntheticCharactersDataset,
}


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
        check_integer("max_length", max_length)
        check_range("min_overlap", min_overlap, 0, 1)
        check_range("max_overlap", max_overlap, 0, 1)
        if max_overlap < min_overlap:
            raise ArgumentError("max_overlap", f"must be at least min_overlap ({min_overlap}), got {max_overlap!r}")
        sizes = {"train": num_train, "val": num_val, "test": num_test}
        for split, size in sizes.items():
            check_integer(f"num_{split}", size)
        check_integer("seed", seed, minimum=0)
        if not isinstance(char_source, str) or char_source not in CHARACTER_SOURCES:
            raise ArgumentError("char_source", f"unknown character dataset {char_source!r}; "
                                f"expected one of {', '.join(CHARACTER_SOURCES)}")
        if not isinstance(text_source, str) or not (text_source in NAMED_SOURCES or Path(text_source).is_file()):
            raise ArgumentError("text_source", f"expected {' or '.join(map(repr, NAMED_SOURCES))} or the path of a "
                                f"UTF-8 text file, got {text_source!r} (no such file)")
        if not isinstance(fresh_train_lines, bool):
            raise ArgumentError("fresh_train_lines", f"must be true or false, got {fresh_train_lines!r}")
        self.args = {"max_length": max_length, "min_overlap": min_overlap, "max_overlap": max_overlap,
                     "seed": seed, "char_source": char_source, "text_source": text_source}
        self.sizes = sizes
        self.fresh_train_lines = fresh_train_lines
        self.characters = CHARACTER_SOURCES[char_source]()
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        length = self.args["max_length"]
        return DataShapes((28, 28 * length), (length,), self.mapping)

    def prepare(self) -> None:
        corpus = normalize(load_text(self.args["text_source"]))  # before the characters: fails in seconds
        self.characters.prepare()
        for index, name in enumerate(SPLITS):
            glyphs = getattr(self.characters, name)
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
