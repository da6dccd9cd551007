"""``IamOnDbDataset``: real handwritten lines of IAM-OnDB, rendered from their pen strokes.

Data: ``lineStrokes-all.tar.gz`` + ``ascii-all.tar.gz`` from ``path`` (a folder holding them or
the extracted ``lineStrokes/`` and ``ascii/`` folders), the data mirror or the
official host with the user's registered credentials (:mod:`textrec_iam_ondb.sources`), paired
line by line (:mod:`textrec_iam_ondb.strokes`). The parsed strokes are cached in
``data_dir()/iam_ondb/`` as an ``.npz`` keyed by the archives' SHA-256 digests (by the files'
names, sizes and modification times for extracted folders), so later runs skip the parsing.

Lines: a line is kept when its normalised text is non-empty, at most ``max_length`` characters
long and spelled in :data:`~textrec_iam_ondb.alphabet.CHARACTERS`; the others are skipped with
one warning per reason, counting them. Splits are by form (no form in two splits): the forms
are shuffled by ``seed`` and ``test_fraction`` and ``val_fraction`` of them (at least one each)
go to the test and validation splits, the rest to training.

Images (:mod:`textrec_iam_ondb.rendering`): ``height`` pixels high, each line scaled to its own
ink extent, at most ``max_width`` wide, bright ink on dark. Training lines are drawn afresh every
epoch in a random style: pen width, slant and jitter, and a scan's ink level, blur and paper noise
(``fresh_train_lines``; with ``False`` they are drawn once, as recorded and clean, like validation
and test). Batches hold lines of similar width, padded
to the widest (:mod:`textrec_iam_ondb.splits`). ``shapes`` is ``((height, max_width),
(max_length,), IAM_ONDB_MAPPING)``: ``max_width`` is the widest a batch can be.

The constructor checks every argument (:class:`~textrec_core.errors.ArgumentError`) and reads no
data; ``prepare()`` fetches, parses (about 20 s for the whole database, once) and draws the fixed splits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from textrec_core import DataShapes, PreparedSplits
from textrec_core.errors import ArgumentError, DataError
from textrec_core.mapping import PAD
from textrec_core.services.arguments import check_integer, check_range
from textrec_core.services.download import data_dir, sha256_file
from textrec_core.services.fileio import load_arrays, save_arrays
from textrec_iam_ondb.alphabet import CHARACTERS, IAM_ONDB_MAPPING
from textrec_iam_ondb.rendering import margin
from textrec_iam_ondb.sources import Source, locate
from textrec_iam_ondb.splits import FixedSplit, FreshSplit
from textrec_iam_ondb.strokes import StrokeLines, read_lines

logger = logging.getLogger(__name__)
CACHE_VERSION = 1
MIN_HEIGHT = 16


class IamOnDbDataset(PreparedSplits):
    """IAM-OnDB's handwritten lines (see the module docstring)."""

    mapping = IAM_ONDB_MAPPING

    def __init__(self, *, path: str | None = None, height: int = 64, max_width: int = 1024, max_length: int = 64,
                 val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                 fresh_train_lines: bool = True) -> None:
        if path is not None and not (isinstance(path, str) and Path(path).is_dir()):
            raise ArgumentError("path", f"must be a folder holding IAM-OnDB's archives or extracted folders, "
                                             f"got {path!r}")
        check_integer("height", height, minimum=MIN_HEIGHT)
        check_integer("max_width", max_width, minimum=height)
        check_integer("max_length", max_length)
        check_range("val_fraction", val_fraction, 0, 0.5, closed="()")
        check_range("test_fraction", test_fraction, 0, 0.5, closed="()")
        check_integer("seed", seed, minimum=0)
        if not isinstance(fresh_train_lines, bool):
            raise ArgumentError("fresh_train_lines", f"must be true or false, got {fresh_train_lines!r}")
        self.path = path
        self.height, self.max_width, self.max_length = height, max_width, max_length
        self.fractions = {"val": val_fraction, "test": test_fraction}
        self.seed = seed
        self.fresh_train_lines = fresh_train_lines
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((self.height, self.max_width), (self.max_length,), self.mapping,
                          ink_margin=margin(self.height) / self.height)

    def prepare(self) -> None:
        lines = self._usable(_cached_lines(locate(self.path)))
        labels = np.full((len(lines), self.max_length), self.mapping.index(PAD), dtype=np.int64)
        for row, text in zip(labels, lines.texts):
            row[: len(text)] = self.mapping.encode(str(text))
        for name, indices in split_by_form(lines.forms, self.fractions, self.seed).items():
            kind = FreshSplit if name == "train" and self.fresh_train_lines else FixedSplit
            self.splits[name] = kind(lines.subset(indices), labels[indices], self.height, self.max_width)
        sizes = ", ".join(f"{name} {len(split)}" for name, split in self.splits.items())
        logger.info("IAM-OnDB splits: %s lines", sizes)

    def _usable(self, lines: StrokeLines) -> StrokeLines:
        """The lines with a non-empty text of at most ``max_length`` characters of the alphabet."""
        alphabet = set(CHARACTERS)
        reasons = {
            "with an empty text": [not text for text in lines.texts],
            "with a character outside the alphabet (textrec_iam_ondb.alphabet)":
                [not set(str(text)) <= alphabet for text in lines.texts],
            f"longer than max_length ({self.max_length})": [len(text) > self.max_length for text in lines.texts],
        }
        keep = np.ones(len(lines), dtype=bool)
        for reason, skipped in reasons.items():
            skipped = np.array(skipped, dtype=bool) & keep
            if skipped.any():
                logger.warning("IAM-OnDB: skipping %d lines %s", skipped.sum(), reason)
            keep &= ~skipped
        return lines.subset(np.flatnonzero(keep))


def split_by_form(forms: np.ndarray, fractions: dict[str, float], seed: int) -> dict[str, np.ndarray]:
    """Line indices of ``train``, ``val`` and ``test``: each form's lines in one split, forms shuffled by ``seed``."""
    unique = np.unique(forms)
    if len(unique) < 3:
        raise DataError(f"IAM-OnDB data with {len(unique)} usable forms cannot be split into train, val and test")
    order = np.random.default_rng(seed).permutation(unique)
    counts = {name: max(1, round(fraction * len(unique))) for name, fraction in fractions.items()}
    chosen = {"test": order[: counts["test"]], "val": order[counts["test"] : counts["test"] + counts["val"]]}
    chosen["train"] = order[counts["test"] + counts["val"] :]
    if not len(chosen["train"]):
        raise DataError(f"IAM-OnDB data with {len(unique)} usable forms leaves no form for training")
    return {name: np.flatnonzero(np.isin(forms, chosen[name])) for name in ("train", "val", "test")}


def _cached_lines(source: Source) -> StrokeLines:
    """The parsed lines of ``source``, from the cache when it holds them (see the module docstring)."""
    path = data_dir() / "iam_ondb" / f"strokes-v{CACHE_VERSION}-{_source_key(source)}.npz"
    cached = load_arrays(path)
    if cached is not None and set(cached) == {"points", "stroke_offsets", "line_offsets", "texts", "forms"}:
        return StrokeLines(**cached)
    lines = read_lines(source)
    save_arrays(path, **lines.arrays())
    return lines


def _source_key(source: Source) -> str:
    if source.kind == "archives":
        parts = [source.digests.get(path.name) or sha256_file(path) for path in (source.strokes, source.ascii)]
    else:
        parts = [(str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                 for root in (source.strokes, source.ascii) for p in sorted(root.rglob("*")) if p.is_file()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]
