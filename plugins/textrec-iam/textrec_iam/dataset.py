"""``IamLinesDataset``: the IAM Handwriting Database's scanned text lines.

Where the files come from (a folder or archives at ``path``, the data mirror, the official host
with credentials, the FSDL repackaging) is :mod:`textrec_iam.sources`; lines cut from form scans,
:mod:`textrec_iam.form_store`; how ``lines.txt`` is read,
:mod:`textrec_iam.lines_txt`; the split lists, :mod:`textrec_iam.split_lists`.

``prepare()`` keeps a line when it is in the chosen split, has an image and a non-empty text that
fits ``max_length`` characters. Lines are skipped, never fatal, for these documented reasons,
each counted in one warning on the ``textrec.iam`` logger: a line id whose image is missing, an
empty transcription, a text longer than ``max_length`` (after dropping characters outside the
alphabet, themselves counted). Both ``ok`` and ``err`` segmentation results are kept (the line's
transcription is valid either way). A malformed ``lines.txt`` row or an unreadable image is a
:class:`~textrec_core.errors.DataError` naming the file.

Splits: ``aachen`` and ``lwitlrt`` take their line ids from the shipped lists (listed ids the
folder lacks are counted in a warning; the folder's unlisted lines are left out); ``all`` puts
every line of the folder in ``test`` and leaves ``train`` and ``val`` empty. No form ever has lines
in two splits (the shipped lists are checked when read). Where ``forms.txt`` gives writer ids, the
splits are checked for writers in common, and any found are reported in a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import numpy as np
import torch

from textrec_core import DataShapes, PreparedSplits
from textrec_core.errors import ArgumentError
from textrec_core.mapping import PAD
from textrec_core.services.arguments import check_integer
from textrec_iam.alphabet import IAM_MAPPING, encode_text, with_characters
from textrec_iam.layout import PARTS, read_folder_splits, read_metadata, split_list_path, version_label
from textrec_iam.line_images import load_line_images
from textrec_iam.line_split import LineSplit
from textrec_iam.lines_txt import LineRecord, parse_lines_txt
from textrec_iam.sources import SOURCES, locate
from textrec_iam.split_lists import SPLIT_FILES, check_forms_disjoint, split_ids
from textrec_iam.writers import check_writers_disjoint

log = logging.getLogger("textrec.iam")

SPLITS = (*SPLIT_FILES, "folder", "all")


class IamLinesDataset(PreparedSplits):
    """IAM's scanned handwritten lines: images ``(height, <= max_width)``, labels of ``max_length``
    character indices then ``<pad>``, in the alphabet :data:`~textrec_iam.alphabet.IAM_MAPPING`.

    Arguments: ``path`` (a folder of IAM's files, see :mod:`textrec_iam.sources`; default: the
    data mirror, else the host), ``source`` (``"official"``: FKI's line crops, with the user's
    registration; ``"fsdl"``: the FSDL repackaging's form scans, lines cropped from them),
    ``split`` (``"aachen"``, ``"lwitlrt"``, ``"folder"``: the folder's own ``splits/*.lst``, or
    ``"all"``; default: ``"folder"`` for a folder with split lists, else ``"aachen"``), ``height``
    (pixels, 64), ``max_width`` (pixels, 2048: wider lines are squeezed to it), ``max_length``
    (characters, 100: longer lines are skipped).

    A folder with a ``metadata.toml`` (a dataset version written by textrec-data) names its version
    in :attr:`version` and adds the characters of its ``alphabet`` that IAM lacks to the label
    alphabet, after IAM's and before the special tokens; elsewhere :attr:`version` is None.
    """

    def __init__(self, *, path: str | None = None, source: str = "official", split: str | None = None,
                 height: int = 64, max_width: int = 2048, max_length: int = 100) -> None:
        if path is not None and (not isinstance(path, str) or not path):
            raise ArgumentError("path", f"must be a non-empty string naming a folder, got {path!r}")
        if source not in SOURCES:
            raise ArgumentError("source", f"must be one of {', '.join(map(repr, SOURCES))}, got {source!r}")
        if split is not None and split not in SPLITS:
            raise ArgumentError("split", f"must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
        folder_splits = read_folder_splits(Path(path)) if path is not None else None
        if split is None:
            split = "folder" if folder_splits is not None else "aachen"
        if split == "folder" and folder_splits is None:
            lists = ", ".join(map(split_list_path, PARTS))
            raise ArgumentError("split", f"'folder' needs split lists in the folder ({lists} in {path}); it has none")
        metadata = read_metadata(Path(path)) if path is not None else None
        check_integer("height", height, minimum=8)
        check_integer("max_width", max_width, minimum=8)
        check_integer("max_length", max_length, minimum=1)
        self.path = path
        self.source = source
        self.split = split
        self.height = height
        self.max_width = max_width
        self.max_length = max_length
        self.mapping = IAM_MAPPING if metadata is None else with_characters(str(metadata.get("alphabet", "")))
        self.version = None if metadata is None else version_label(metadata)
        self._folder_splits = folder_splits
        self.splits = {}

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((self.height, self.max_width), (self.max_length,), self.mapping)

    def prepare(self) -> None:
        store = locate(self.path, self.source)
        records = {r.line_id: r for r in parse_lines_txt(store.lines_txt(), origin=store.lines_origin())}
        chosen = self._choose(records)
        check_writers_disjoint(chosen, store.forms_txt(), origin=store.describe())
        kept = {part: [records[i] for i in sorted(ids) if records[i].text] for part, ids in chosen.items()}
        _warn(sum(len(ids) for ids in chosen.values()) - sum(map(len, kept.values())),
              "lines have an empty transcription and were skipped")
        paths = {r.line_id: r.image_path for part in kept.values() for r in part}
        line_images = load_line_images(store, paths, height=self.height, max_width=self.max_width)
        missing = sorted(set(paths) - line_images.images.keys())
        _warn(len(missing),
              f"lines have no image in {store.describe()} and were skipped (e.g. {', '.join(missing[:3])})")
        _warn(line_images.squeezed, f"lines were wider than max_width={self.max_width} at height {self.height} "
                                    "and were squeezed to fit")
        encoded = {part: self._encode(part_records, line_images.images) for part, part_records in kept.items()}
        _warn(sum(e.unknown for e in encoded.values()),
              "characters outside IAM's alphabet were dropped from the labels")
        _warn(sum(e.too_long for e in encoded.values()),
              f"lines are longer than max_length={self.max_length} characters and were skipped")
        self.splits = {part: e.split for part, e in encoded.items()}
        log.info("IAM lines from %s, split %s: %s", store.describe(), self.split,
                 ", ".join(f"{len(self.splits[part])} {part}" for part in PARTS))

    def _choose(self, records: dict[str, LineRecord]) -> dict[str, frozenset[str]]:
        """The line ids of each part in the chosen split that ``lines.txt`` has."""
        if self.split == "all":
            chosen = {"train": frozenset(), "val": frozenset(), "test": frozenset(records)}
        elif self.split == "folder":
            listed = self._folder_splits
            check_forms_disjoint(listed, what=f"the split lists of {self.path}")
            chosen = {part: ids & records.keys() for part, ids in listed.items()}
            _warn(sum(len(ids) for ids in listed.values()) - sum(len(ids) for ids in chosen.values()),
                  f"lines of the split lists of {self.path} are not in its lines.txt")
        else:
            listed = split_ids(self.split)
            chosen = {part: ids & records.keys() for part, ids in listed.items()}
            absent = sum(len(ids) for ids in listed.values()) - sum(len(ids) for ids in chosen.values())
            _warn(absent, f"lines of the {self.split} split are not in this copy of IAM")
        return chosen

    def _encode(self, records: list[LineRecord], images: dict[str, np.ndarray]) -> _Encoded:
        """The split of ``records`` that have an image and fit ``max_length``, with the counts of
        dropped characters and of lines too long."""
        pad = self.mapping.index(PAD)
        kept_images, rows, ids = [], [], []
        unknown = too_long = 0
        for record in records:
            if record.line_id not in images:
                continue
            indices, dropped = encode_text(record.text, self.mapping)
            unknown += dropped
            if len(indices) > self.max_length:
                too_long += 1
                continue
            kept_images.append(images[record.line_id])
            rows.append(indices + [pad] * (self.max_length - len(indices)))
            ids.append(record.line_id)
        labels = torch.tensor(rows, dtype=torch.long).reshape(len(rows), self.max_length)
        return _Encoded(LineSplit(kept_images, labels, ids), unknown, too_long)


@attrs.frozen
class _Encoded:
    """One part's split, with the characters it dropped and the lines it skipped as too long."""

    split: LineSplit
    unknown: int
    too_long: int


def _warn(count: int, what: str) -> None:
    """One warning for ``count`` things that ``what`` describes, none for zero."""
    if count:
        log.warning("IAM: %d %s", count, what)
