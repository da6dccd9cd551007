"""A folder of text lines in IAM's layout, as textrec reads and writes it.

- ``ascii/lines.txt``: one row a line (:func:`lines_txt_row`; parsed by :mod:`textrec_iam.lines_txt`);
- ``lines/<group>/<form>/<line id>.png``: the line crop, dark ink on light paper (:func:`image_path`);
- ``splits/train.lst``, ``val.lst``, ``test.lst`` (textrec's own, optional): each part's line ids,
  one a line; a folder holding them is read with its own split (:func:`read_folder_splits`);
- ``metadata.toml`` (written by textrec-data, optional): the dataset's name, version, alphabet and
  digests (:func:`read_metadata`, :func:`version_label`).

A line id is IAM's ``<group>-<form>-<line>``: ``a01-000u-00`` is line 0 of form ``a01-000u`` of
group ``a01``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textrec_core.errors import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

LINE_ID = re.compile(r"([a-z]\d\d)-(\d\d\d[a-z]?)-(\d\d)")
LINES_TXT = "ascii/lines.txt"
SPLITS_FOLDER = "splits"
PARTS = ("train", "val", "test")
METADATA_FILE = "metadata.toml"


def form_of(line_id: str) -> str:
    """The form id of an IAM line id (``a01-000u`` for ``a01-000u-00``)."""
    return line_id.rsplit("-", 1)[0]


def image_path(line_id: str) -> str:
    """The line image's path in IAM's layout, relative to the folder holding ``lines/``."""
    return f"lines/{line_id.split('-', 1)[0]}/{form_of(line_id)}/{line_id}.png"


def lines_txt_row(line_id: str, text: str, *, width: int, height: int, segmentation: str = "ok") -> str:
    """The ``lines.txt`` row of a line whose crop is ``width`` x ``height`` pixels: its words (split at
    spaces) joined by ``|``, IAM's token separator. Gray level and component count are not known and
    written as 0; the box is the whole crop. ``ValueError`` for a malformed id, an empty text or one
    holding ``|`` or a line break (the format cannot carry those)."""
    if not LINE_ID.fullmatch(line_id):
        raise ValueError(f"malformed line id {line_id!r} (expected e.g. a01-000u-00)")
    words = text.split()
    if not words:
        raise ValueError(f"line {line_id} has an empty text")
    if "|" in text or "\n" in text or "\r" in text:
        raise ValueError(f"line {line_id}: IAM's lines.txt cannot hold '|' or a line break, got {text!r}")
    return f"{line_id} {segmentation} 0 0 0 0 {width} {height} {'|'.join(words)}"


def split_list_path(part: str) -> str:
    """Where the line ids of ``part`` (train, val or test) are listed, relative to the folder."""
    return f"{SPLITS_FOLDER}/{part}.lst"


def format_split_list(line_ids: Iterable[str]) -> str:
    """A split list's text: the ids sorted, one a line."""
    return "".join(f"{line_id}\n" for line_id in sorted(line_ids))


def read_folder_splits(root: Path) -> dict[str, frozenset[str]] | None:
    """``{part: line ids}`` from the folder's own split lists, or None when it has none; a folder
    with some lists but not all three, or a malformed id, is a :class:`DataError`."""
    files = {part: Path(root) / split_list_path(part) for part in PARTS}
    present = [part for part, file in files.items() if file.is_file()]
    if not present:
        return None
    if len(present) != len(PARTS):
        missing = ", ".join(split_list_path(p) for p in PARTS if p not in present)
        raise DataError(f"{root} has split lists but lacks {missing}")
    splits: dict[str, frozenset[str]] = {}
    for part, file in files.items():
        ids = file.read_text(encoding="ascii", errors="replace").split()
        bad = [line_id for line_id in ids if not LINE_ID.fullmatch(line_id)]
        if bad:
            raise DataError(f"{file}: malformed line id {bad[0]!r} (expected e.g. a01-000u-00)")
        splits[part] = frozenset(ids)
    return splits


def read_metadata(root: Path) -> dict[str, Any] | None:
    """The folder's ``metadata.toml`` as a dict, or None when it has none; unreadable TOML is a
    :class:`DataError` naming the file."""
    file = Path(root) / METADATA_FILE
    if not file.is_file():
        return None
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{file} is not valid TOML: {exc}") from None


def version_label(metadata: dict[str, Any]) -> str:
    """How a dataset version is named in run configs, bundles and ``/healthz``:
    ``<name> v<version> sha256:<first 12 hex digits of the manifest digest>``."""
    manifest = metadata.get("manifest", {}).get("sha256", "")
    return f"{metadata.get('name', '?')} v{metadata.get('version', '?')} sha256:{manifest[:12]}"
